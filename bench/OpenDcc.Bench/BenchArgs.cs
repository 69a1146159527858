using System.Globalization;

namespace OpenDcc.Bench;

internal sealed record BenchArgs(int Entries, int Batch, int PayloadBytes, int Rounds, string? Postgres, int Users, int RequestsPerUser, int Sites, int Devices, int Port, bool ResponseUrls = false)
{
    public const string Usage = """
        usage: dotnet run -c Release --project bench/OpenDcc.Bench -- SCENARIO [OPTIONS]
          message-log   [--entries 1000000] [--batch 1000] [--payload 1024] [--rounds 3] [--postgres CONN (default $OPENDCC_BENCH_POSTGRES)]
          gateway       [--users 128] [--requests-per-user 60] [--rounds 3] [--response-urls no|yes] [--postgres CONN (default $OPENDCC_BENCH_POSTGRES)]
          device-path   [--devices 10000] [--rounds 3]
          device-memory [--devices 40000]
          fleet-read    [--sites 100000]
        """;

    private static readonly string[] Known = ["--entries", "--batch", "--payload", "--rounds", "--postgres", "--users", "--requests-per-user", "--sites", "--devices", "--port", "--response-urls"];

    /// <exception cref="ArgumentException">an option the bench does not know, one without its value, or a count that is not a whole number of at least 1.</exception>
    public static BenchArgs Parse(string[] args, int defaultDevices = 10_000)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i += 2)
        {
            if (!Known.Contains(args[i], StringComparer.Ordinal))
            {
                throw new ArgumentException($"unknown option '{args[i]}'");
            }
            values[args[i]] = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]}: give its value");
        }
        int Int(string name, int fallback, int least = 1) =>
            !values.TryGetValue(name, out var v) ? fallback
            : int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= least ? n
            : throw new ArgumentException($"{name}: '{v}' is not a whole number of at least {least}");
        return new BenchArgs(
            Int("--entries", 1_000_000),
            Int("--batch", 1_000),
            Int("--payload", 1_024, least: 0),
            Int("--rounds", 3),
            values.GetValueOrDefault("--postgres") ?? Environment.GetEnvironmentVariable("OPENDCC_BENCH_POSTGRES"),
            Int("--users", 128),
            Int("--requests-per-user", 60),
            Int("--sites", 100_000),
            Int("--devices", defaultDevices),
            Int("--port", 0, least: 0),
            values.GetValueOrDefault("--response-urls", "no") switch
            {
                "no" => false,
                "yes" => true,
                var other => throw new ArgumentException($"--response-urls: '{other}' is neither 'no' nor 'yes'"),
            });
    }
}
