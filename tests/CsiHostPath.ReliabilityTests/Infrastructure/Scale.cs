namespace CsiHostPath.ReliabilityTests.Infrastructure;

/// <summary>
/// How big each suite runs: the defaults are the CI sizes (the whole project stays within a few minutes);
/// docs/reliability.md gives the environment variables for the full, on-demand runs.
/// </summary>
public static class Scale
{
    /// <summary>Empty files in the "many files" hostile tree (a million on demand).</summary>
    public static int HostileFiles => Read("CHP_HOSTILE_FILES", 20_000);

    /// <summary>Depth of the nested-directories hostile tree.</summary>
    public static int HostileDepth => Read("CHP_HOSTILE_DEPTH", 10_000);

    /// <summary>Empty files in the wide tree that CreateSnapshot copies (a million on demand).</summary>
    public static int CopyFiles => Read("CHP_COPY_FILES", 100_000);

    /// <summary>CreateSnapshot calls raced by a symlink-swapping tenant.</summary>
    public static int CopyRaceTries => Read("CHP_COPY_RACE_TRIES", 10);

    /// <summary>DeleteVolume calls raced by a symlink-swapping tenant.</summary>
    public static int RaceTries => Read("CHP_RACE_TRIES", 100);

    /// <summary>kill -9 rounds of the crash soak.</summary>
    public static int SoakKills => Read("CHP_SOAK_KILLS", 6);

    /// <summary>Rounds of kill -9 during an inline ephemeral volume's publish and its unpublish, per backing.</summary>
    public static int EphemeralKills => Read("CHP_EPHEMERAL_KILLS", 5);

    public static int LoadVolumes => Read("CHP_LOAD_VOLUMES", 1_000);

    public static int LoadClients => Read("CHP_LOAD_CLIENTS", 64);

    public static TimeSpan LoadDuration => TimeSpan.FromSeconds(Read("CHP_LOAD_SECONDS", 20));

    public static int FuzzCases => Read("CHP_FUZZ_CASES", 3_000);

    /// <summary>The fuzz seed; a failure message names it so the run can be repeated.</summary>
    public static int FuzzSeed => Read("CHP_FUZZ_SEED", Environment.TickCount & 0x7fffffff);

    private static int Read(string name, int fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? int.Parse(value, System.Globalization.CultureInfo.InvariantCulture)
            : fallback;
}
