using System.CommandLine;
using CsiHostPath.Bench.Csi;
using CsiHostPath.Client;
using CsiHostPath.Bench.Output;
using CsiHostPath.Bench.Runs;
using CsiHostPath.Bench.Startup;
using Grpc.Core;

namespace CsiHostPath.Bench.Cli;

/// <summary>
/// <c>csi-hostpath-bench [options]</c> runs volumes through a driver; <c>csi-hostpath-bench startup</c> times its start.
/// Exit code 0 when every item succeeded, 1 when any failed, 2 for a usage error.
/// </summary>
public static class BenchCommand
{
    private const string DefaultEndpoint = "unix:///tmp/csi-hostpath/csi.sock";

    public static RootCommand Create()
    {
        var endpoint = new Option<string>("--endpoint")
        {
            Description = "The driver's CSI endpoint: unix:///path/csi.sock or a bare path.",
            DefaultValueFactory = _ => DefaultEndpoint,
        };
        var json = new Option<bool>("--json") { Description = "Write the report as JSON instead of text." };
        var concurrency = AtLeast(new Option<int>("--concurrency", "-c")
        {
            Description = "Clients working at once, each on its own connection.",
            DefaultValueFactory = _ => 8,
        }, 1);
        var count = AtLeast(new Option<int>("--count", "-n")
        {
            Description = "Items to run: lifecycles, or create+delete pairs.",
            DefaultValueFactory = _ => 100,
        }, 0);
        var size = AtLeast(new Option<long>("--size")
        {
            Description = "Each volume's capacity_range.required_bytes.",
            DefaultValueFactory = _ => 1L << 20,
        }, 0);
        var parameters = new Option<string[]>("--parameters", "-p")
        {
            Description = "A StorageClass parameter for CreateVolume, as key=value; repeat for more (e.g. backing=image).",
            AllowMultipleArgumentsPerToken = false,
        };
        parameters.Validators.Add(result =>
        {
            foreach (var pair in result.GetValueOrDefault<string[]>() ?? [])
            {
                if (!pair.Contains('=', StringComparison.Ordinal))
                    result.AddError($"--parameters takes key=value, not '{pair}'");
            }
        });
        var mode = new Option<string>("--mode")
        {
            Description = "lifecycle: CreateVolume, [NodeStage], NodePublish, NodeUnpublish, [NodeUnstage], DeleteVolume. create-delete: the controller alone. stats: --count NodeGetVolumeStats calls on one volume holding --files files, each with a ControllerGetVolume and a GetCapacity. scale: after --prefill, CreateVolume, ControllerGetVolume, GetCapacity, NodeGetVolumeStats and DeleteVolume per item. snapshot: --count rounds of CreateSnapshot and a restore of one --size volume holding --files files of data.",
            DefaultValueFactory = _ => "lifecycle",
        };
        mode.AcceptOnlyFromAmong("lifecycle", "create-delete", "stats", "scale", "snapshot");
        var files = AtLeast(new Option<int>("--files")
        {
            Description = "With --mode stats: small files written into the volume before the NodeGetVolumeStats calls are timed. With --mode snapshot: files sharing 90% of --size.",
            DefaultValueFactory = _ => 1000,
        }, 0);
        var prefill = AtLeast(new Option<int>("--prefill")
        {
            Description = "Volumes to create first (kept, named bench-prefill-<i>), then walk ListVolumes over, before the measured run.",
        }, 0);
        var prefillImages = AtLeast(new Option<int>("--prefill-images")
        {
            Description = "Of the --prefill volumes, how many are backing=image (loop devices; the first ones).",
        }, 0);
        var pid = new Option<int?>("--pid") { Description = "The driver's pid: report its resident memory (VmRSS) before and after." };
        var workDir = new Option<string>("--work-dir")
        {
            Description = "Parent of the target and staging directories, as kubelet's pods directory.",
            DefaultValueFactory = _ => Path.GetTempPath(),
        };

        var root = new RootCommand("Benchmarks a CSI driver over its unix socket the way external-provisioner and kubelet drive it.")
        {
            endpoint, concurrency, count, size, parameters, mode, files, prefill, prefillImages, pid, workDir, json, CreateStartupCommand(json),
        };
        root.SetAction(async (result, _) =>
        {
            var options = new BenchOptions
            {
                Endpoint = result.GetValue(endpoint)!,
                Mode = result.GetValue(mode) switch
                {
                    "create-delete" => BenchMode.CreateDelete,
                    "stats" => BenchMode.Stats,
                    "scale" => BenchMode.Scale,
                    "snapshot" => BenchMode.Snapshot,
                    _ => BenchMode.Lifecycle,
                },
                Files = result.GetValue(files),
                Concurrency = result.GetValue(concurrency),
                Count = result.GetValue(count),
                SizeBytes = result.GetValue(size),
                Parameters = (result.GetValue(parameters) ?? []).Select(p => p.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]),
                Prefill = result.GetValue(prefill),
                PrefillImages = Math.Min(result.GetValue(prefillImages), result.GetValue(prefill)),
                Pid = result.GetValue(pid),
                WorkDir = result.GetValue(workDir)!,
            };
            try
            {
                var report = await Benchmark.RunAsync(options);
                ReportWriter.Write(result.InvocationConfiguration.Output, report, result.GetValue(json));
                return report.Failed == 0 ? 0 : 1;
            }
            catch (RpcException e)
            {
                await result.InvocationConfiguration.Error.WriteLineAsync($"csi-hostpath-bench: {options.Endpoint}: {e.Status.StatusCode}: {e.Status.Detail}");
                return 1;
            }
        });
        return root;
    }

    private static Command CreateStartupCommand(Option<bool> json)
    {
        var driver = new Option<string>("--driver") { Description = "The driver executable.", Required = true };
        var socket = new Option<string>("--socket")
        {
            Description = "The socket the driver will listen on (as its own arguments say).",
            Required = true,
        };
        var runs = AtLeast(new Option<int>("--runs") { Description = "Starts to time; the median is reported.", DefaultValueFactory = _ => 10 }, 1);
        var driverArgs = new Argument<string[]>("driver-args") { Description = "The driver's arguments, after --." };
        var command = new Command("startup", "Times a driver from spawn to a connectable socket and to a first answer, SIGKILLing it after each start.")
        {
            driver, socket, runs, driverArgs, json,
        };
        command.SetAction(async (result, _) =>
        {
            var report = await StartupProbe.RunAsync(result.GetValue(driver)!, result.GetValue(driverArgs) ?? [],
                CsiClient.SocketPathOf(result.GetValue(socket)!), result.GetValue(runs));
            ReportWriter.Write(result.InvocationConfiguration.Output, report, result.GetValue(json));
            return 0;
        });
        return command;
    }

    private static Option<T> AtLeast<T>(Option<T> option, T minimum)
        where T : IComparable<T>
    {
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<T>()!.CompareTo(minimum) < 0)
                result.AddError($"{option.Name} must be at least {minimum}");
        });
        return option;
    }
}
