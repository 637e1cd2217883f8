using System.Text;

namespace CsiHostPath.Transport.Hpack;

/// <summary>
/// Decodes the header blocks of one connection (RFC 7541). The dynamic table carries over from block to block, so a
/// connection needs its own instance, fed every block in the order received.
/// </summary>
internal sealed class HpackDecoder
{
    // §4.1: an entry counts 32 octets of overhead besides its name and value; SETTINGS_MAX_HEADER_LIST_SIZE counts
    // fields the same way.
    private const int EntryOverhead = 32;

    // Five 7-bit continuation octets after the prefix already reach past int.MaxValue, so a sixth is never needed.
    private const int MaxContinuationShift = 28;

    private readonly int _maxTableSize;
    private readonly int _maxHeaderListSize;

    // The dynamic table as a ring of entries, oldest at _oldest. Every entry takes at least EntryOverhead octets, so
    // the ring never holds more than _maxTableSize / EntryOverhead of them.
    private readonly KeyValuePair<string, string>[] _entries;
    private int _oldest;
    private int _count;
    private int _tableSize;

    // The table's limit, which the peer may lower (and raise again up to _maxTableSize) with size updates.
    private int _tableCapacity;

    public HpackDecoder(int maxTableSize = 4096, int maxHeaderListSize = 65536)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxTableSize);
        ArgumentOutOfRangeException.ThrowIfNegative(maxHeaderListSize);
        _maxTableSize = maxTableSize;
        _maxHeaderListSize = maxHeaderListSize;
        _entries = new KeyValuePair<string, string>[maxTableSize / EntryOverhead];
        _tableCapacity = maxTableSize;
    }

    public void Decode(ReadOnlySpan<byte> headerBlock, List<KeyValuePair<string, string>> headers)
    {
        int position = 0;
        long listSize = 0;
        bool fieldSeen = false;
        while (position < headerBlock.Length)
        {
            byte first = headerBlock[position];
            if ((first & 0x80) != 0)
            {
                // §6.1 indexed field: 1xxxxxxx
                Append(headers, GetEntry(ReadInteger(headerBlock, ref position, 7)), ref listSize);
            }
            else if ((first & 0x40) != 0)
            {
                // §6.2.1 literal with incremental indexing: 01xxxxxx
                var field = ReadLiteral(headerBlock, ref position, 6);
                // Before indexing, so that the size check also bounds the entry's size.
                Append(headers, field, ref listSize);
                Insert(field);
            }
            else if ((first & 0x20) != 0)
            {
                // §6.3 dynamic table size update: 001xxxxx; §4.2 allows it only before the block's first field.
                if (fieldSeen)
                    throw new HpackException("Dynamic table size update after a header field.");
                int capacity = ReadInteger(headerBlock, ref position, 5);
                if (capacity > _maxTableSize)
                    throw new HpackException($"Dynamic table size update to {capacity} exceeds the limit of {_maxTableSize}.");
                _tableCapacity = capacity;
                EvictUntil(capacity);
                continue;
            }
            else
            {
                // §6.2.2 without indexing (0000xxxx) and §6.2.3 never indexed (0001xxxx) differ only for
                // intermediaries re-encoding the field, which a server never does.
                Append(headers, ReadLiteral(headerBlock, ref position, 4), ref listSize);
            }
            fieldSeen = true;
        }
    }

    private KeyValuePair<string, string> ReadLiteral(ReadOnlySpan<byte> block, ref int position, int prefixBits)
    {
        int nameIndex = ReadInteger(block, ref position, prefixBits);
        string name = nameIndex == 0 ? ReadString(block, ref position) : GetEntry(nameIndex).Key;
        return new(name, ReadString(block, ref position));
    }

    private static string ReadString(ReadOnlySpan<byte> block, ref int position)
    {
        if (position >= block.Length)
            throw Truncated();
        bool huffman = (block[position] & 0x80) != 0;
        int length = ReadInteger(block, ref position, 7);
        if (length > block.Length - position)
            throw Truncated();
        var octets = block.Slice(position, length);
        position += length;
        return huffman ? Huffman.Decode(octets) : Encoding.Latin1.GetString(octets);
    }

    // §5.1: the value fills an N-bit prefix; a full prefix is followed by 7-bit groups, least significant first.
    private static int ReadInteger(ReadOnlySpan<byte> block, ref int position, int prefixBits)
    {
        if (position >= block.Length)
            throw Truncated();
        int prefixMax = (1 << prefixBits) - 1;
        int prefix = block[position++] & prefixMax;
        if (prefix < prefixMax)
            return prefix;
        ulong value = (ulong)prefix;
        for (int shift = 0; ; shift += 7)
        {
            if (shift > MaxContinuationShift)
                throw new HpackException("Integer has too many continuation octets.");
            if (position >= block.Length)
                throw Truncated();
            byte octet = block[position++];
            value += (ulong)(octet & 0x7F) << shift;
            if ((octet & 0x80) == 0)
                break;
        }
        if (value > int.MaxValue)
            throw new HpackException("Integer exceeds int.MaxValue.");
        return (int)value;
    }

    // §2.3.3: static entries at 1 to 61, then the dynamic table from its newest entry.
    private KeyValuePair<string, string> GetEntry(int index)
    {
        if (index == 0)
            throw new HpackException("Index 0 does not name a table entry.");
        if (index <= HpackStaticTable.Count)
            return HpackStaticTable.Get(index);
        int age = index - HpackStaticTable.Count;
        if (age > _count)
            throw new HpackException($"Index {index} is beyond the {_count} entries of the dynamic table.");
        return _entries[(_oldest + _count - age) % _entries.Length];
    }

    private void Append(List<KeyValuePair<string, string>> headers, KeyValuePair<string, string> field, ref long listSize)
    {
        listSize += (long)field.Key.Length + field.Value.Length + EntryOverhead;
        if (listSize > _maxHeaderListSize)
            throw new HpackException($"Header list exceeds {_maxHeaderListSize} octets.");
        headers.Add(field);
    }

    // §4.4: make room by evicting the oldest entries; an entry larger than the whole table just empties it.
    private void Insert(KeyValuePair<string, string> field)
    {
        int size = EntrySize(field);
        if (size > _tableCapacity)
        {
            EvictUntil(0);
            return;
        }
        EvictUntil(_tableCapacity - size);
        _entries[(_oldest + _count) % _entries.Length] = field;
        _count++;
        _tableSize += size;
    }

    private void EvictUntil(int tableSize)
    {
        while (_tableSize > tableSize)
        {
            _tableSize -= EntrySize(_entries[_oldest]);
            _entries[_oldest] = default;
            _oldest = (_oldest + 1) % _entries.Length;
            _count--;
        }
    }

    private static int EntrySize(KeyValuePair<string, string> entry) => entry.Key.Length + entry.Value.Length + EntryOverhead;

    private static HpackException Truncated() => new("Header block ends inside a field.");
}
