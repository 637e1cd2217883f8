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

    public async Task InitializeAsync() => Driver = await DriverProcess.StartOnNodeAsync(Root);

    public async Task DisposeAsync()
    {
        await Driver.DisposeAsync();
        Root.Dispose();
    }
}
