namespace CsiHostPath.Hosting;

/// <summary>What the driver's exit code tells a supervisor: fix the command line, or look at the node.</summary>
public static class DriverExitCodes
{
    public const int Usage = 2;
    public const int StartFailed = 1;
}
