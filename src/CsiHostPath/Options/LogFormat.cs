namespace CsiHostPath.Options;

public enum LogFormat
{
    Text,
    Json,
}
