namespace CsiHostPath.Metrics;

/// <summary>The OS operations whose failures are counted (label <c>operation</c>).</summary>
public enum OsOperation
{
    Mount,
    Unmount,
    LoopAttach,
    LoopDetach,
    Mkfs,
    Grow,
}
