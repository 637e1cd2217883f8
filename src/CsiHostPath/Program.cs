using CsiHostPath.Cli;
using CsiHostPath.Hosting;

return await DriverCommand.Create(DriverHost.RunAsync).Parse(args).InvokeAsync();
