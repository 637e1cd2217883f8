using System.Runtime.CompilerServices;
using System.Text;
using Google.Protobuf.Collections;
using Grpc.Core;

namespace CsiHostPath.Grpc;

/// <summary>Field checks that run before any lock or I/O; each failure names the field (INVALID_ARGUMENT).</summary>
internal static class RequestValidation
{
    // CSI's general size limits: 128 bytes for a string, 4 KiB for a map.
    private const int MaxStringBytes = 128;
    private const int MaxMapBytes = 4096;
    private const int MaxPathBytes = 4096;

    public static RpcException Invalid(string field, string problem) =>
        new(new Status(StatusCode.InvalidArgument, $"{field} {problem}"));

    /// <summary>A name or id: present, within CSI's size limit, and a single safe path component.</summary>
    public static string RequireName(string value, [CallerArgumentExpression(nameof(value))] string field = "")
    {
        field = FieldName(field);
        if (value.Length == 0)
            throw Invalid(field, "is required");
        if (Encoding.UTF8.GetByteCount(value) > MaxStringBytes)
            throw Invalid(field, $"is longer than {MaxStringBytes} bytes");
        if (value is "." or ".." || value.Any(c => c == '/' || c == '\0' || char.IsControl(c)))
            throw Invalid(field, $"'{Printable(value)}' contains '/', a control character or is a dot path");
        return value;
    }

    /// <summary>An absolute path with no NUL and no '..' components.</summary>
    public static string RequireAbsolutePath(string value, [CallerArgumentExpression(nameof(value))] string field = "")
    {
        field = FieldName(field);
        if (value.Length == 0)
            throw Invalid(field, "is required");
        if (Encoding.UTF8.GetByteCount(value) > MaxPathBytes)
            throw Invalid(field, $"is longer than {MaxPathBytes} bytes");
        if (!value.StartsWith('/') || value.Contains('\0'))
            throw Invalid(field, $"'{Printable(value)}' is not an absolute path");
        if (value.Split('/').Any(part => part is ".." or "."))
            throw Invalid(field, $"'{Printable(value)}' contains a '.' or '..' component");
        return value.Length > 1 ? value.TrimEnd('/') : value;
    }

    public static T Require<T>(T? value, [CallerArgumentExpression(nameof(value))] string field = "") where T : class =>
        value ?? throw Invalid(FieldName(field), "is required");

    public static IReadOnlyDictionary<string, string> Map(MapField<string, string> map, [CallerArgumentExpression(nameof(map))] string field = "")
    {
        int bytes = 0;
        foreach (var (key, value) in map)
            bytes += Encoding.UTF8.GetByteCount(key) + Encoding.UTF8.GetByteCount(value);
        if (bytes > MaxMapBytes)
            throw Invalid(FieldName(field), $"is larger than {MaxMapBytes} bytes");
        return new Dictionary<string, string>(map);
    }

    /// <summary>"request.VolumeId" → "volume_id": the protobuf name a CO's author will recognise.</summary>
    private static string FieldName(string expression)
    {
        var last = expression[(expression.LastIndexOf('.') + 1)..];
        var snake = new StringBuilder(last.Length + 4);
        foreach (var c in last)
        {
            if (char.IsUpper(c) && snake.Length > 0)
                snake.Append('_');
            snake.Append(char.ToLowerInvariant(c));
        }
        return snake.ToString();
    }

    private static string Printable(string value)
    {
        var escaped = new StringBuilder();
        foreach (var c in value.Length > 64 ? value[..64] + "…" : value)
            escaped.Append(char.IsControl(c) ? $"\\x{(int)c:x2}" : c);
        return escaped.ToString();
    }
}
