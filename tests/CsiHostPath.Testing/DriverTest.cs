using Xunit;

namespace CsiHostPath.Testing;

/// <summary>
/// A test class whose every test gets its own driver process, started over a fresh temp root on a <see cref="NodeHarness"/>:
/// a kill -9 and restart puts it in a fresh mount namespace, as a container restart does.
/// </summary>
public abstract class DriverTest : IAsyncLifetime
{
    protected TempRoot Root { get; } = new();

    protected DriverProcess Driver { get; private set; } = null!;

    public async Task InitializeAsync() => Driver = await StartAsync(Root);

    /// <summary>How the test class's node runs the driver; the plain harness unless a class needs another layout.</summary>
    protected virtual Task<DriverProcess> StartAsync(TempRoot root) => DriverProcess.StartOnNodeAsync(root);

    public async Task DisposeAsync()
    {
        await Driver.DisposeAsync();
        Root.Dispose();
    }
}
