using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace CsiHostPath.Metrics;

/// <summary>
/// --http-endpoint: /metrics in the Prometheus text format, on a TCP HTTP/1.1 listener of the same Kestrel that serves
/// gRPC on the unix socket. OpenTelemetry's exporter turns <see cref="DriverMeter"/>'s instruments into the README's
/// names: a counter gets <c>_total</c>, a unit of seconds or bytes its suffix; its scope labels and <c>target_info</c>
/// are off, so that every series carries only the labels the README lists (Prometheus adds instance, pod and node).
/// </summary>
internal static class MetricsEndpoint
{
    public const string Path = "/metrics";

    public static void Listen(KestrelServerOptions kestrel, IPEndPoint endpoint)
    {
        // ":PORT" means every address, IPv6 and IPv4 alike where the node has both, as the sidecars' flag does.
        if (endpoint.Address.Equals(IPAddress.IPv6Any))
            kestrel.ListenAnyIP(endpoint.Port, Configure);
        else
            kestrel.Listen(endpoint, Configure);

        static void Configure(ListenOptions listen)
        {
            listen.Protocols = HttpProtocols.Http1;
            listen.Use(next => listen.ApplicationServices.GetRequiredService<MetricsConnectionLimit>().Wrap(next));
        }
    }

    public static void AddServices(IServiceCollection services, TimeSpan connectionLifetime)
    {
        services.AddSingleton(provider => new MetricsConnectionLimit(connectionLifetime, provider.GetRequiredService<ILogger<MetricsConnectionLimit>>()));
        services.AddSingleton<DriverGauges>();
        services.AddSingleton(_ => Sdk.CreateMeterProviderBuilder()
            .AddMeter(DriverMeter.Name)
            .AddRuntimeInstrumentation()
            .AddProcessInstrumentation()
            .AddPrometheusExporter(exporter =>
            {
                exporter.ScopeInfoEnabled = false;
                exporter.TargetInfoEnabled = false;
                // A scrape shows what happened up to it: Prometheus scrapes every 30 s, and nothing here is costly to collect.
                exporter.ScrapeResponseCacheDurationMilliseconds = 0;
            })
            .Build());
    }

    /// <summary>
    /// Serves requests that came in over TCP, ahead of the <see cref="Hosting.RequestGate"/>: /metrics answers while the
    /// records load, and the CSI services, mapped after the gate, are never reachable from the network.
    /// </summary>
    public static void Map(WebApplication app)
    {
        var meterProvider = app.Services.GetRequiredService<MeterProvider>();
        app.Services.GetRequiredService<DriverGauges>();
        DriverMeter.StartCountersAtZero();
        app.MapWhen(context => context.Connection.LocalIpAddress is not null, tcp =>
        {
            // One request per connection: MetricsConnectionLimit's lifetime then never cuts a scrape that kept its connection.
            tcp.Use((context, next) =>
            {
                context.Response.Headers.Connection = "close";
                return next(context);
            });
            tcp.UseOpenTelemetryPrometheusScrapingEndpoint(
                meterProvider, predicate: context => context.Request.Path == Path, path: null, configureBranchedPipeline: null, optionsName: null);
            tcp.Run(context =>
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            });
        });
    }
}
