using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;

namespace CsiHostPath.Transport.Hpack;

/// <summary>
/// Writes the few representations our responses need. Without the dynamic table there is no encoder state to keep in
/// step with the peer, and without Huffman coding values are copied as they are: a response carries a handful of
/// short fields, where neither would save much.
/// </summary>
internal static class HpackEncoder
{
    // A prefix octet and up to five continuation octets hold any int (§5.1).
    private const int MaxIntegerLength = 6;

    /// <summary>§6.1 indexed field, e.g. <see cref="HpackStaticTable.Status200"/>.</summary>
    public static void WriteIndexed(int staticIndex, IBufferWriter<byte> output)
    {
        ThrowIfNotStaticIndex(staticIndex);
        var span = output.GetSpan(MaxIntegerLength);
        output.Advance(WriteInteger(staticIndex, 7, 0x80, span));
    }

    /// <summary>§6.2.2 literal without indexing, with the name of a static entry.</summary>
    /// <param name="value">Written as Latin-1; characters above U+00FF become '?', so callers encode such text first
    /// (gRPC percent-encodes grpc-message).</param>
    public static void WriteLiteralIndexedName(int staticNameIndex, string value, IBufferWriter<byte> output)
    {
        ThrowIfNotStaticIndex(staticNameIndex);
        var span = output.GetSpan((MaxIntegerLength * 2) + value.Length);
        int length = WriteInteger(staticNameIndex, 4, 0x00, span);
        length += WriteString(value, span[length..]);
        output.Advance(length);
    }

    /// <summary>§6.2.2 literal without indexing, with a new name.</summary>
    /// <param name="name">Lowercase, as HTTP/2 requires (RFC 9113 §8.2.1).</param>
    /// <param name="value">As for <see cref="WriteLiteralIndexedName"/>.</param>
    public static void WriteLiteral(string name, string value, IBufferWriter<byte> output)
    {
        var span = output.GetSpan(1 + (MaxIntegerLength * 2) + name.Length + value.Length);
        // A name index of 0 in the 4-bit prefix: the name follows as a string.
        span[0] = 0x00;
        int length = 1;
        length += WriteString(name, span[length..]);
        length += WriteString(value, span[length..]);
        output.Advance(length);
    }

    // §5.2 with the H bit clear: the length, then the raw octets.
    private static int WriteString(string value, Span<byte> destination)
    {
        int length = WriteInteger(value.Length, 7, 0x00, destination);
        return length + Encoding.Latin1.GetBytes(value, destination[length..]);
    }

    private static int WriteInteger(int value, int prefixBits, byte pattern, Span<byte> destination)
    {
        int prefixMax = (1 << prefixBits) - 1;
        if (value < prefixMax)
        {
            destination[0] = (byte)(pattern | value);
            return 1;
        }
        destination[0] = (byte)(pattern | prefixMax);
        int length = 1;
        uint rest = (uint)(value - prefixMax);
        while (rest >= 0x80)
        {
            destination[length++] = (byte)((rest & 0x7F) | 0x80);
            rest >>= 7;
        }
        destination[length++] = (byte)rest;
        return length;
    }

    private static void ThrowIfNotStaticIndex(int index, [CallerArgumentExpression(nameof(index))] string? paramName = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(index, 1, paramName);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(index, HpackStaticTable.Count, paramName);
    }
}
