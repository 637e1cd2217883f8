using CsiHostPath.Cli;
using CsiHostPath.Hosting;

var parsed = DriverCommand.Create(DriverHost.RunAsync).Parse(args);
if (parsed.Errors.Count > 0)
{
    // One exit code for every usage error, whether the parser or the option checks find it (DriverExitCodes).
    foreach (var error in parsed.Errors)
        await Console.Error.WriteLineAsync("csi-hostpath: " + error.Message);
    await Console.Error.WriteLineAsync("csi-hostpath: see --help");
    return DriverExitCodes.Usage;
}
return await parsed.InvokeAsync();
