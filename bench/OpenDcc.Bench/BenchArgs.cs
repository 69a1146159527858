using System.Globalization;

namespace OpenDcc.Bench;

internal sealed record BenchArgs(int Entries, int Batch, int PayloadBytes, int Rounds, string? Postgres, int Users, int RequestsPerUser, int Sites, int Devices, int Port)
{
    public static BenchArgs Parse(string[] args, int defaultDevices = 10_000)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            values[args[i]] = args[i + 1];
        }
        int Int(string name, int fallback) => values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        return new BenchArgs(
            Int("--entries", 1_000_000),
            Int("--batch", 1_000),
            Int("--payload", 1_024),
            Int("--rounds", 3),
            values.GetValueOrDefault("--postgres") ?? Environment.GetEnvironmentVariable("OPENDCC_BENCH_POSTGRES"),
            Int("--users", 128),
            Int("--requests-per-user", 60),
            Int("--sites", 100_000),
            Int("--devices", defaultDevices),
            Int("--port", 0));
    }
}
