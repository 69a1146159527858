using OpenDcc.Bench;

// The OpenDcc bench app: end-to-end scenarios measured against a baseline in the same run (BenchArgs.Usage).
if (args.Length == 0 || args[0] is "--help" or "-h" or "-?" || args.Skip(1).Any(a => a is "--help" or "-h" or "-?"))
{
    Console.WriteLine(BenchArgs.Usage);
    return args.Length == 0 ? 2 : 0;
}
BenchArgs Options(int defaultDevices = 10_000)
{
    try
    {
        return BenchArgs.Parse(args.Skip(1).ToArray(), defaultDevices);
    }
    catch (ArgumentException e)
    {
        Console.Error.WriteLine($"bench {args[0]}: {e.Message}");
        Console.Error.WriteLine(BenchArgs.Usage);
        Environment.Exit(2);
        throw;
    }
}
switch (args[0])
{
    case "message-log":
        return await MessageLogBenchmark.RunAsync(Options());
    case "gateway":
        return await GatewayBenchmark.RunAsync(Options());
    case "device-path":
        return await DeviceBenchmark.RunPathAsync(Options());
    case "device-memory":
        // What the heap holds at rest apart from devices (pools, table capacity) varies by a few MiB between readings:
        // the more devices, the less of that each one carries.
        return await DeviceBenchmark.RunMemoryAsync(Options(defaultDevices: 40_000));
    case "fleet-read":
        return await DeviceBenchmark.RunFleetReadAsync(Options());
    case SimulatorProcess.Scenario:
        // Started by device-memory: the simulated fleet in a process of its own, so the hub's heap is measured alone.
        return await SimulatorProcess.RunAsync(Options());
    default:
        await Console.Error.WriteLineAsync($"unknown scenario '{args[0]}'");
        Console.Error.WriteLine(BenchArgs.Usage);
        return 2;
}
