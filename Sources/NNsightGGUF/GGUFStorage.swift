import Foundation
import NNsightMappedFile

/// The bytes of one GGUF file (see `MappedFile` for the lifetime rules).
public typealias GGUFStorage = MappedFile

extension MappedFile {
    /// Maps a GGUF file, reporting failure as a `GGUFError` naming the file.
    static func gguf(mapping url: URL) throws(GGUFError) -> MappedFile {
        do {
            return try MappedFile(mapping: url)
        } catch {
            throw GGUFError(.cannotOpen(reason: error.reason), file: url.path)
        }
    }
}
