namespace CsiHostPath.Volumes;

internal static partial class RecordStoreLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Warning, Message = "Discarding the half-created {Path}")]
    public static partial void DiscardedStaging(ILogger logger, string path);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Finishing the removal of {Path}")]
    public static partial void FinishingDelete(ILogger logger, string path);

    [LoggerMessage(EventId = 103, Level = LogLevel.Warning, Message = "Leaving {Path} for later: {Reason}")]
    public static partial void LeftoverKept(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 102, Level = LogLevel.Error, Message = "{Id} is damaged: {Damage}")]
    public static partial void DamagedRecord(ILogger logger, string id, string damage);
}
