// A CSI node plugin exists only on Linux: mounts, /proc and unix sockets are the point.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
