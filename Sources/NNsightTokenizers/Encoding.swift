/// The result of encoding one text (`tokenizers.Encoding`): token ids and the per-token
/// arrays that go with them.
///
/// ```python
/// enc = tokenizer.encode("Hello")      # enc.ids, enc.attention_mask, enc.type_ids
/// ```
/// ```swift
/// let enc = tokenizer.encode("Hello")  // enc.ids, enc.attentionMask, enc.typeIds
/// ```
public struct Encoding: Sendable, Equatable {
    public var ids: [Int] = []
    public var typeIds: [Int] = []
    /// 1 for a special token added by the post-processor or matched as a special added token.
    public var specialTokensMask: [Int] = []
    /// 1 for a real token, 0 for padding.
    public var attentionMask: [Int] = []

    public init() {}

    public init(ids: [Int], specialTokensMask: [Int]? = nil) {
        self.ids = ids
        self.typeIds = [Int](repeating: 0, count: ids.count)
        self.specialTokensMask = specialTokensMask ?? [Int](repeating: 0, count: ids.count)
        self.attentionMask = [Int](repeating: 1, count: ids.count)
    }

    public var count: Int { ids.count }

    mutating func append(_ other: Encoding, typeId: Int) {
        ids += other.ids
        typeIds += [Int](repeating: typeId, count: other.ids.count)
        specialTokensMask += other.specialTokensMask
        attentionMask += other.attentionMask
    }

    mutating func appendSpecial(_ id: Int, typeId: Int) {
        ids.append(id)
        typeIds.append(typeId)
        specialTokensMask.append(1)
        attentionMask.append(1)
    }

    /// Keeps at most `maxLength` tokens, dropping from the end (`.right`) or the start (`.left`).
    public mutating func truncate(to maxLength: Int, direction: Direction = .right) {
        guard ids.count > maxLength else { return }
        let keep = max(0, maxLength)
        func cut(_ array: inout [Int]) {
            array = direction == .right ? Array(array.prefix(keep)) : Array(array.suffix(keep))
        }
        cut(&ids); cut(&typeIds); cut(&specialTokensMask); cut(&attentionMask)
    }

    /// Pads to `length` with `padId` on the given side; attention mask 0 over the padding.
    public mutating func pad(to length: Int, padId: Int, padTypeId: Int = 0, direction: Direction = .right) {
        let missing = length - ids.count
        guard missing > 0 else { return }
        func extend(_ array: inout [Int], _ value: Int) {
            let fill = [Int](repeating: value, count: missing)
            array = direction == .right ? array + fill : fill + array
        }
        extend(&ids, padId); extend(&typeIds, padTypeId); extend(&specialTokensMask, 1); extend(&attentionMask, 0)
    }

    /// Which end padding or truncation applies to.
    public enum Direction: String, Sendable { case left, right }
}

/// How `encodeBatch` pads (`tokenizer.enable_padding(...)` in Python).
public struct PaddingOptions: Sendable, Equatable {
    public enum Length: Sendable, Equatable {
        /// Pad to the longest sequence in the batch.
        case longest
        /// Pad every sequence to this length.
        case fixed(Int)
    }
    public var length: Length
    public var direction: Encoding.Direction
    public var padId: Int
    public var padTypeId: Int
    public var padToMultipleOf: Int?

    public init(length: Length = .longest, direction: Encoding.Direction = .right, padId: Int, padTypeId: Int = 0, padToMultipleOf: Int? = nil) {
        self.length = length
        self.direction = direction
        self.padId = padId
        self.padTypeId = padTypeId
        self.padToMultipleOf = padToMultipleOf
    }
}

/// How `encode` truncates (`tokenizer.enable_truncation(max_length, direction=...)` in Python).
/// The special tokens the post-processor adds count towards `maxLength`.
public struct TruncationOptions: Sendable, Equatable {
    public var maxLength: Int
    public var direction: Encoding.Direction

    public init(maxLength: Int, direction: Encoding.Direction = .right) {
        self.maxLength = maxLength
        self.direction = direction
    }
}
