namespace CsiHostPath.Transport.Http2;

/// <summary>Serialises whole frames onto the connection: handlers finish concurrently, frames must not interleave.</summary>
internal sealed class Http2FrameWriter(Stream output)
{
    private readonly SemaphoreSlim _lock = new(1, 1);

    public async Task WriteAsync(ReadOnlyMemory<byte> frames)
    {
        await _lock.WaitAsync();
        try
        {
            await output.WriteAsync(frames);
        }
        finally
        {
            _lock.Release();
        }
    }
}
