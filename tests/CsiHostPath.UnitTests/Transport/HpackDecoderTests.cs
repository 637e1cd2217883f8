using CsiHostPath.Transport.Hpack;

namespace CsiHostPath.UnitTests.Transport;

// Header blocks from RFC 7541 Appendix C unless a test says otherwise.
public sealed class HpackDecoderTests
{
    private static readonly KeyValuePair<string, string>[] C3Request1 =
    [
        new(":method", "GET"), new(":scheme", "http"), new(":path", "/"), new(":authority", "www.example.com"),
    ];

    private static readonly KeyValuePair<string, string>[] C3Request2 =
    [
        new(":method", "GET"), new(":scheme", "http"), new(":path", "/"), new(":authority", "www.example.com"),
        new("cache-control", "no-cache"),
    ];

    private static readonly KeyValuePair<string, string>[] C3Request3 =
    [
        new(":method", "GET"), new(":scheme", "https"), new(":path", "/index.html"), new(":authority", "www.example.com"),
        new("custom-key", "custom-value"),
    ];

    private static readonly KeyValuePair<string, string>[] C5Response1 =
    [
        new(":status", "302"), new("cache-control", "private"), new("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
        new("location", "https://www.example.com"),
    ];

    private static readonly KeyValuePair<string, string>[] C5Response2 =
    [
        new(":status", "307"), new("cache-control", "private"), new("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
        new("location", "https://www.example.com"),
    ];

    private static readonly KeyValuePair<string, string>[] C5Response3 =
    [
        new(":status", "200"), new("cache-control", "private"), new("date", "Mon, 21 Oct 2013 20:13:22 GMT"),
        new("location", "https://www.example.com"), new("content-encoding", "gzip"),
        new("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"),
    ];

    [Fact]
    public void Decode_C2_1LiteralWithIndexing_EmitsFieldAndIndexesIt()
    {
        var decoder = new HpackDecoder();

        var headers = Decode(decoder, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572");

        Assert.Equal([new("custom-key", "custom-header")], headers);
        AssertDynamicTable(decoder, [new("custom-key", "custom-header")]);
    }

    [Theory]
    [InlineData("040c 2f73 616d 706c 652f 7061 7468", ":path", "/sample/path")] // C.2.2 without indexing
    [InlineData("1008 7061 7373 776f 7264 0673 6563 7265 74", "password", "secret")] // C.2.3 never indexed
    [InlineData("82", ":method", "GET")] // C.2.4 indexed
    public void Decode_C2FieldNotIndexed_EmitsFieldAndLeavesTableEmpty(string block, string name, string value)
    {
        var decoder = new HpackDecoder();

        var headers = Decode(decoder, block);

        Assert.Equal([new(name, value)], headers);
        AssertDynamicTable(decoder, []);
    }

    [Fact]
    public void Decode_C3RequestsWithoutHuffman_ResolveDynamicTableReferences()
    {
        var decoder = new HpackDecoder();

        Assert.Equal(C3Request1, Decode(decoder, "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d"));
        AssertDynamicTable(decoder, [new(":authority", "www.example.com")]);

        Assert.Equal(C3Request2, Decode(decoder, "8286 84be 5808 6e6f 2d63 6163 6865"));
        AssertDynamicTable(decoder, [new("cache-control", "no-cache"), new(":authority", "www.example.com")]);

        Assert.Equal(C3Request3, Decode(decoder, "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65"));
        AssertDynamicTable(decoder,
            [new("custom-key", "custom-value"), new("cache-control", "no-cache"), new(":authority", "www.example.com")]);
    }

    [Fact]
    public void Decode_C4RequestsWithHuffman_ResolveDynamicTableReferences()
    {
        var decoder = new HpackDecoder();

        Assert.Equal(C3Request1, Decode(decoder, "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"));
        AssertDynamicTable(decoder, [new(":authority", "www.example.com")]);

        Assert.Equal(C3Request2, Decode(decoder, "8286 84be 5886 a8eb 1064 9cbf"));
        AssertDynamicTable(decoder, [new("cache-control", "no-cache"), new(":authority", "www.example.com")]);

        Assert.Equal(C3Request3, Decode(decoder, "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"));
        AssertDynamicTable(decoder,
            [new("custom-key", "custom-value"), new("cache-control", "no-cache"), new(":authority", "www.example.com")]);
    }

    [Fact]
    public void Decode_C5ResponsesWithoutHuffman_EvictOldestEntries()
    {
        var decoder = new HpackDecoder(maxTableSize: 256);

        Assert.Equal(C5Response1, Decode(decoder,
            "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 " +
            "474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d"));
        AssertDynamicTable(decoder,
            [new("location", "https://www.example.com"), new("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
            new("cache-control", "private"), new(":status", "302")]);

        Assert.Equal(C5Response2, Decode(decoder, "4803 3330 37c1 c0bf"));
        AssertDynamicTable(decoder,
            [new(":status", "307"), new("location", "https://www.example.com"),
            new("date", "Mon, 21 Oct 2013 20:13:21 GMT"), new("cache-control", "private")]);

        Assert.Equal(C5Response3, Decode(decoder,
            "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 " +
            "666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 " +
            "3630 303b 2076 6572 7369 6f6e 3d31"));
        AssertDynamicTable(decoder,
            [new("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"),
            new("content-encoding", "gzip"), new("date", "Mon, 21 Oct 2013 20:13:22 GMT")]);
    }

    [Fact]
    public void Decode_C6ResponsesWithHuffman_EvictOldestEntries()
    {
        var decoder = new HpackDecoder(maxTableSize: 256);

        Assert.Equal(C5Response1, Decode(decoder,
            "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 " +
            "63c7 8f0b 97c8 e9ae 82ae 43d3"));
        AssertDynamicTable(decoder,
            [new("location", "https://www.example.com"), new("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
            new("cache-control", "private"), new(":status", "302")]);

        Assert.Equal(C5Response2, Decode(decoder, "4883 640e ffc1 c0bf"));
        AssertDynamicTable(decoder,
            [new(":status", "307"), new("location", "https://www.example.com"),
            new("date", "Mon, 21 Oct 2013 20:13:21 GMT"), new("cache-control", "private")]);

        Assert.Equal(C5Response3, Decode(decoder,
            "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 " +
            "b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07"));
        AssertDynamicTable(decoder,
            [new("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"),
            new("content-encoding", "gzip"), new("date", "Mon, 21 Oct 2013 20:13:22 GMT")]);
    }

    [Fact]
    public void Decode_HuffmanEveryOctet_RoundTripsThroughTheCodeTable()
    {
        var octets = new byte[256];
        for (int i = 0; i < octets.Length; i++)
            octets[i] = (byte)i;
        var encoded = HuffmanEncode(octets);
        var block = new List<byte> { 0x00, 0x01, (byte)'x', 0xFF };
        // The length, 0x7F or more, continues past the 7-bit prefix.
        AppendContinuation(block, encoded.Length - 0x7F);
        block.AddRange(encoded);

        var headers = new List<KeyValuePair<string, string>>();
        new HpackDecoder().Decode(block.ToArray(), headers);

        var expected = string.Create(256, 0, (chars, _) =>
        {
            for (int i = 0; i < chars.Length; i++)
                chars[i] = (char)i;
        });
        Assert.Equal([new("x", expected)], headers);
    }

    [Fact]
    public void Decode_HuffmanWithShortOnesPadding_DecodesString()
    {
        // 'a' is 00011; three one bits pad it to an octet.
        Assert.Equal([new("a", "a")], Decode(new HpackDecoder(), "0001 6181 1f"));
    }

    [Fact]
    public void Decode_RawOctetsAbove7F_DecodesAsLatin1()
    {
        Assert.Equal([new("a", "\u00e9\u00ff")], Decode(new HpackDecoder(), "0001 6102 e9ff"));
    }

    [Fact]
    public void Decode_EntryLargerThanTable_EmptiesTableButEmitsField()
    {
        var decoder = new HpackDecoder(maxTableSize: 256);
        Decode(decoder, "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d");

        // custom-key with a 230-octet value: 10 + 230 + 32 = 272 octets, more than the whole table.
        var headers = Decode(decoder, "400a 6375 7374 6f6d 2d6b 6579 7f67" + new string('6', 460));

        Assert.Equal([new("custom-key", new string('f', 230))], headers);
        AssertDynamicTable(decoder, []);
    }

    [Fact]
    public void Decode_InsertionsPastTableCapacity_KeepNewestEntries()
    {
        // :authority with a one-character value takes 10 + 1 + 32 = 43 octets, so two fit in 100; nine insertions
        // cycle through the decoder's storage several times.
        var decoder = new HpackDecoder(maxTableSize: 100);

        for (char value = '1'; value <= '9'; value++)
            Decode(decoder, "4101" + Convert.ToHexString([(byte)value]));

        AssertDynamicTable(decoder, [new(":authority", "9"), new(":authority", "8")]);
    }

    [Fact]
    public void Decode_SizeUpdateToZero_EvictsEverythingAndLaterUpdateRestoresIndexing()
    {
        var decoder = new HpackDecoder();
        Decode(decoder, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572");

        Decode(decoder, "20");
        AssertDynamicTable(decoder, []);

        // Two updates may open a block (RFC 7541 §4.2); the last one, 4096, is the decoder's maximum.
        Decode(decoder, "20 3fe1 1f 41 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d");
        AssertDynamicTable(decoder, [new(":authority", "www.example.com")]);
    }

    [Fact]
    public void Decode_HeaderListAtLimit_Succeeds()
    {
        // :method GET counts 7 + 3 + 32 = 42 octets.
        Assert.Equal(2, Decode(new HpackDecoder(maxHeaderListSize: 84), "8282").Count);
    }

    [Theory]
    [InlineData("80", "Index 0")] // index 0
    [InlineData("be", "Index 62")] // index 62 with an empty dynamic table
    [InlineData("ff00", "Index 127")] // index 127
    [InlineData("7e 0161", "Index 62")] // literal naming dynamic index 62 with an empty table
    [InlineData("0f2f 0161", "Index 62")] // literal without indexing naming index 62
    [InlineData("0001 6182 1fff", "more than 7 bits")] // Huffman: 'a' then 11 bits of padding
    [InlineData("0001 6181 ff", "more than 7 bits")] // Huffman: 8 bits of padding and no symbol
    [InlineData("0001 6181 18", "prefix of EOS")] // Huffman: 'a' then padding 000
    [InlineData("0001 6184 ffff ffff", "contains EOS")] // Huffman: EOS (30 ones) inside the string
    [InlineData("3fe2 1f", "exceeds the limit")] // size update to 4097
    [InlineData("82 20", "after a header field")] // size update after a field
    [InlineData("ff80 8080 8080 01", "too many continuation")] // six continuation octets
    [InlineData("ffff ffff ff0f", "int.MaxValue")] // 127 + 2^32 - 1
    [InlineData("007f ffff ffff 0f", "int.MaxValue")] // string length past int.MaxValue
    [InlineData("ff", "ends inside")] // integer cut off in its continuation
    [InlineData("40", "ends inside")] // literal without its name
    [InlineData("400a 6375", "ends inside")] // name shorter than its length
    [InlineData("41", "ends inside")] // literal without its value
    [InlineData("0001 61", "ends inside")] // new-name literal without its value
    [InlineData("0001 6103 6161", "ends inside")] // value shorter than its length
    public void Decode_MalformedBlock_Throws(string block, string reason)
    {
        var exception = Assert.Throws<HpackException>(() => Decode(new HpackDecoder(), block));
        Assert.Contains(reason, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_HeaderListOverLimit_Throws()
    {
        Assert.Throws<HpackException>(() => Decode(new HpackDecoder(maxHeaderListSize: 100), "8282 82"));
    }

    [Fact]
    public void Decode_SizeUpdateAboveSmallerMax_Throws()
    {
        Assert.Throws<HpackException>(() => Decode(new HpackDecoder(maxTableSize: 256), "3fe2 01"));
    }

    private static List<KeyValuePair<string, string>> Decode(HpackDecoder decoder, string hex)
    {
        var headers = new List<KeyValuePair<string, string>>();
        decoder.Decode(Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal)), headers);
        return headers;
    }

    // Reads every dynamic entry back by index, newest first, then checks that the next index is past the end. Indexed
    // fields leave the table as it is.
    private static void AssertDynamicTable(HpackDecoder decoder, KeyValuePair<string, string>[] newestFirst)
    {
        var block = new byte[newestFirst.Length];
        for (int i = 0; i < block.Length; i++)
            block[i] = (byte)(0x80 | (HpackStaticTable.Count + 1 + i));
        var headers = new List<KeyValuePair<string, string>>();
        decoder.Decode(block, headers);
        Assert.Equal(newestFirst, headers);

        byte[] pastEnd = [(byte)(0x80 | (HpackStaticTable.Count + 1 + newestFirst.Length))];
        Assert.Throws<HpackException>(() => decoder.Decode(pastEnd, []));
    }

    private static byte[] HuffmanEncode(ReadOnlySpan<byte> octets)
    {
        var output = new List<byte>();
        ulong bits = 0;
        int count = 0;
        foreach (byte octet in octets)
        {
            bits = (bits << Huffman.CodeLengths[octet]) | Huffman.Codes[octet];
            count += Huffman.CodeLengths[octet];
            while (count >= 8)
            {
                count -= 8;
                output.Add((byte)(bits >> count));
            }
        }
        if (count > 0)
            output.Add((byte)((bits << (8 - count)) | (0xFFu >> count)));
        return output.ToArray();
    }

    private static void AppendContinuation(List<byte> block, int value)
    {
        while (value >= 0x80)
        {
            block.Add((byte)((value & 0x7F) | 0x80));
            value >>= 7;
        }
        block.Add((byte)value);
    }
}
