namespace CsiHostPath.Transport.Hpack;

/// <summary>The static table (RFC 7541 Appendix A): indices 1 to 61, below the dynamic table's.</summary>
internal static class HpackStaticTable
{
    public const int Count = 61;

    /// <summary>Also the name to use for a <c>:status</c> without an entry of its own (§6.2.2 with an indexed name).</summary>
    public const int Status200 = 8;

    public const int ContentType = 31;

    private static readonly KeyValuePair<string, string>[] Entries =
    [
        new(":authority", ""), // 1
        new(":method", "GET"), // 2
        new(":method", "POST"), // 3
        new(":path", "/"), // 4
        new(":path", "/index.html"), // 5
        new(":scheme", "http"), // 6
        new(":scheme", "https"), // 7
        new(":status", "200"), // 8
        new(":status", "204"), // 9
        new(":status", "206"), // 10
        new(":status", "304"), // 11
        new(":status", "400"), // 12
        new(":status", "404"), // 13
        new(":status", "500"), // 14
        new("accept-charset", ""), // 15
        new("accept-encoding", "gzip, deflate"), // 16
        new("accept-language", ""), // 17
        new("accept-ranges", ""), // 18
        new("accept", ""), // 19
        new("access-control-allow-origin", ""), // 20
        new("age", ""), // 21
        new("allow", ""), // 22
        new("authorization", ""), // 23
        new("cache-control", ""), // 24
        new("content-disposition", ""), // 25
        new("content-encoding", ""), // 26
        new("content-language", ""), // 27
        new("content-length", ""), // 28
        new("content-location", ""), // 29
        new("content-range", ""), // 30
        new("content-type", ""), // 31
        new("cookie", ""), // 32
        new("date", ""), // 33
        new("etag", ""), // 34
        new("expect", ""), // 35
        new("expires", ""), // 36
        new("from", ""), // 37
        new("host", ""), // 38
        new("if-match", ""), // 39
        new("if-modified-since", ""), // 40
        new("if-none-match", ""), // 41
        new("if-range", ""), // 42
        new("if-unmodified-since", ""), // 43
        new("last-modified", ""), // 44
        new("link", ""), // 45
        new("location", ""), // 46
        new("max-forwards", ""), // 47
        new("proxy-authenticate", ""), // 48
        new("proxy-authorization", ""), // 49
        new("range", ""), // 50
        new("referer", ""), // 51
        new("refresh", ""), // 52
        new("retry-after", ""), // 53
        new("server", ""), // 54
        new("set-cookie", ""), // 55
        new("strict-transport-security", ""), // 56
        new("transfer-encoding", ""), // 57
        new("user-agent", ""), // 58
        new("vary", ""), // 59
        new("via", ""), // 60
        new("www-authenticate", ""), // 61
    ];

    /// <param name="index">1 to <see cref="Count"/>.</param>
    public static KeyValuePair<string, string> Get(int index) => Entries[index - 1];
}
