using CsiHostPath.Options;
using Microsoft.Extensions.Logging.Console;

namespace CsiHostPath.Hosting;

/// <summary>
/// The driver's log: one line per event on stdout, where kubectl logs and every log collector read it. Text for people;
/// JSON for machines, with the structured fields ({VolumeId}, {Method}, {StatusCode}, {DurationMs}) as keys of "State".
/// </summary>
public static class DriverLogging
{
    public static void Configure(ILoggingBuilder logging, DriverOptions options)
    {
        if (options.LogFormat == LogFormat.Json)
        {
            logging.AddJsonConsole(o =>
            {
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                o.UseUtcTimestamp = true;
            });
        }
        else
        {
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                o.UseUtcTimestamp = true;
            });
        }
        logging.SetMinimumLevel(options.LogLevel);
    }
}
