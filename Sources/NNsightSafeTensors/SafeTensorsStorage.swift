import Foundation
import NNsightMappedFile

/// The bytes of one safetensors file (see `MappedFile` for the lifetime rules).
public typealias SafeTensorsStorage = MappedFile

extension MappedFile {
    /// Maps a safetensors file, reporting failure as a `SafeTensorsError` naming the file.
    static func safeTensors(mapping url: URL) throws(SafeTensorsError) -> MappedFile {
        do {
            return try MappedFile(mapping: url)
        } catch {
            throw SafeTensorsError(.cannotOpen(reason: error.reason), file: url.path)
        }
    }
}
