namespace CsiHostPath.Bench.Runs;

/// <summary>Fills a volume through its mount, as a pod would: files of the same content, a thousand to a directory, written in parallel.</summary>
public static class VolumeFill
{
    private const int FilesPerDirectory = 1000;

    public static void Fill(string target, int files, byte[] content) =>
        Parallel.For(0, (files + FilesPerDirectory - 1) / FilesPerDirectory, d =>
        {
            string dir = Path.Combine(target, $"d{d}");
            Directory.CreateDirectory(dir);
            for (int f = d * FilesPerDirectory; f < Math.Min(files, (d + 1) * FilesPerDirectory); f++)
                File.WriteAllBytes(Path.Combine(dir, $"f{f}"), content);
        });
}
