import Foundation

/// A checkpoint split over several safetensors files, as `save_pretrained` writes it:
/// `model.safetensors.index.json` maps each tensor name to its shard file.
///
/// ```swift
/// let ckpt = try ShardedSafeTensors(directory: URL(fileURLWithPath: "models/llama"))
/// let w = try ckpt.tensor("model.layers.0.mlp.up_proj.weight")
/// ```
///
/// Every shard is memory-mapped and validated once, at init; views keep their shard's mapping
/// alive (see `SafeTensor`). A directory with a single `model.safetensors` and no index works
/// too.
public final class ShardedSafeTensors: Sendable {
    /// The index file name transformers uses.
    public static let indexFileName = "model.safetensors.index.json"
    /// The single-file checkpoint name transformers uses.
    public static let singleFileName = "model.safetensors"

    /// The opened shards, by file name.
    public let shards: [String: SafeTensorsFile]
    /// Tensor name → shard file name.
    public let weightMap: [String: String]
    /// `metadata.total_size` from the index, if present.
    public let totalSize: Int?

    /// Opens the index file at `indexURL` and every shard it names (relative to its folder).
    public init(indexAt indexURL: URL) throws(SafeTensorsError) {
        let path = indexURL.path
        let index: Index
        do {
            index = try JSONDecoder().decode(Index.self, from: Data(contentsOf: indexURL))
        } catch let error as DecodingError {
            throw SafeTensorsError(.invalidIndex(why: "\(error)"), file: path)
        } catch {
            throw SafeTensorsError(.cannotOpen(reason: error.localizedDescription), file: path)
        }
        let folder = indexURL.deletingLastPathComponent()
        var shards: [String: SafeTensorsFile] = [:]
        for file in Set(index.weightMap.values).sorted() {
            guard !file.isEmpty, !file.contains("/"), file != ".", file != ".." else {
                throw SafeTensorsError(.invalidIndex(why: "shard name '\(file)' must be a plain file name"), file: path)
            }
            shards[file] = try SafeTensorsFile(contentsOf: folder.appendingPathComponent(file))
        }
        for (name, file) in index.weightMap where shards[file]?.contains(name) != true {
            throw SafeTensorsError(.invalidIndex(why: "tensor '\(name)' is not in its shard '\(file)'"), file: path)
        }
        self.shards = shards
        weightMap = index.weightMap
        totalSize = index.metadata?.totalSize
    }

    /// Opens `directory/model.safetensors.index.json`, or `directory/model.safetensors` alone.
    public convenience init(directory: URL) throws(SafeTensorsError) {
        let indexURL = directory.appendingPathComponent(Self.indexFileName)
        if FileManager.default.fileExists(atPath: indexURL.path) {
            try self.init(indexAt: indexURL)
        } else {
            let single = try SafeTensorsFile(contentsOf: directory.appendingPathComponent(Self.singleFileName))
            self.init(single: single, name: Self.singleFileName)
        }
    }

    private init(single: SafeTensorsFile, name: String) {
        shards = [name: single]
        weightMap = Dictionary(uniqueKeysWithValues: single.tensorNames.map { ($0, name) })
        totalSize = nil
    }

    /// All tensor names, sorted.
    public var tensorNames: [String] { weightMap.keys.sorted() }

    /// A zero-copy view of tensor `name` in whichever shard holds it.
    public func tensor(_ name: String) throws(SafeTensorsError) -> SafeTensor {
        guard let file = weightMap[name], let shard = shards[file] else {
            throw SafeTensorsError(.tensorNotFound(name))
        }
        return try shard.tensor(name)
    }

    private struct Index: Decodable {
        struct Metadata: Decodable {
            var totalSize: Int?
            enum CodingKeys: String, CodingKey { case totalSize = "total_size" }

            // Informational only: some writers store a float or other keys here; never fail on it.
            init(from decoder: Decoder) throws {
                let c = try? decoder.container(keyedBy: CodingKeys.self)
                totalSize = (try? c?.decodeIfPresent(Int.self, forKey: .totalSize))
                    ?? (try? c?.decodeIfPresent(Double.self, forKey: .totalSize)).flatMap { $0.flatMap { Int(exactly: $0) } }
            }
        }
        var metadata: Metadata?
        var weightMap: [String: String]
        enum CodingKeys: String, CodingKey {
            case metadata
            case weightMap = "weight_map"
        }
    }
}
