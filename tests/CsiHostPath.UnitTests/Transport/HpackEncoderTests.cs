using System.Buffers;
using CsiHostPath.Transport.Hpack;

namespace CsiHostPath.UnitTests.Transport;

public sealed class HpackEncoderTests
{
    [Fact]
    public void WriteIndexed_Status200_WritesOneOctet()
    {
        var output = new ArrayBufferWriter<byte>();

        HpackEncoder.WriteIndexed(HpackStaticTable.Status200, output);

        Assert.Equal([0x88], output.WrittenSpan.ToArray());
    }

    [Fact]
    public void WriteLiteral_GrpcStatus_WritesRawNameAndValueWithoutIndexing()
    {
        var output = new ArrayBufferWriter<byte>();

        HpackEncoder.WriteLiteral("grpc-status", "0", output);

        Assert.Equal(Convert.FromHexString("000b677270632d737461747573" + "0130"), output.WrittenSpan.ToArray());
    }

    [Fact]
    public void WriteLiteralIndexedName_ContentType_ContinuesIndexPastFourBitPrefix()
    {
        var output = new ArrayBufferWriter<byte>();

        HpackEncoder.WriteLiteralIndexedName(HpackStaticTable.ContentType, "application/grpc", output);

        // 31 = 15 in the prefix + 16 in a continuation octet.
        Assert.Equal(Convert.FromHexString("0f10" + "10" + "6170706c69636174696f6e2f67727063"), output.WrittenSpan.ToArray());
    }

    [Fact]
    public void Write_EveryRepresentation_RoundTripsThroughDecoderWithoutIndexing()
    {
        var longValue = new string('v', 300);
        var output = new ArrayBufferWriter<byte>();
        HpackEncoder.WriteIndexed(HpackStaticTable.Status200, output);
        HpackEncoder.WriteLiteralIndexedName(HpackStaticTable.Status200, "415", output);
        HpackEncoder.WriteLiteralIndexedName(HpackStaticTable.ContentType, "application/grpc", output);
        HpackEncoder.WriteLiteral("grpc-status", "0", output);
        HpackEncoder.WriteLiteral("grpc-message", "", output);
        HpackEncoder.WriteLiteral("x-long", longValue, output);
        HpackEncoder.WriteLiteral("x-latin1", "caf\u00e9", output);

        var decoder = new HpackDecoder();
        var headers = new List<KeyValuePair<string, string>>();
        decoder.Decode(output.WrittenSpan, headers);

        KeyValuePair<string, string>[] expected =
        [
            new(":status", "200"), new(":status", "415"), new("content-type", "application/grpc"),
            new("grpc-status", "0"), new("grpc-message", ""), new("x-long", longValue), new("x-latin1", "caf\u00e9"),
        ];
        Assert.Equal(expected, headers);
        // Nothing was indexed: the first dynamic index is still out of range.
        Assert.Throws<HpackException>(() => decoder.Decode([0x80 | (HpackStaticTable.Count + 1)], []));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(HpackStaticTable.Count + 1)]
    public void WriteIndexed_IndexOutsideStaticTable_Throws(int index)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => HpackEncoder.WriteIndexed(index, new ArrayBufferWriter<byte>()));
        Assert.Throws<ArgumentOutOfRangeException>(
            () => HpackEncoder.WriteLiteralIndexedName(index, "v", new ArrayBufferWriter<byte>()));
    }
}
