using OpenDcc.Bench;

// The OpenDcc bench app: end-to-end scenarios measured against a baseline in the same run.
//   dotnet run -c Release --project bench/OpenDcc.Bench -- message-log [--entries N] [--batch N] [--payload BYTES] [--rounds N] [--postgres CONN]
//   dotnet run -c Release --project bench/OpenDcc.Bench -- gateway [--users N] [--requests-per-user N] [--rounds N]
//   dotnet run -c Release --project bench/OpenDcc.Bench -- device-path [--devices N] [--rounds N]
//   dotnet run -c Release --project bench/OpenDcc.Bench -- device-memory [--devices N]   (default 40,000)
//   dotnet run -c Release --project bench/OpenDcc.Bench -- fleet-read [--sites N]
var scenario = args.FirstOrDefault() ?? "message-log";
switch (scenario)
{
    case "message-log":
        return await MessageLogBenchmark.RunAsync(BenchArgs.Parse(args.Skip(1).ToArray()));
    case "gateway":
        return await GatewayBenchmark.RunAsync(BenchArgs.Parse(args.Skip(1).ToArray()));
    case "device-path":
        return await DeviceBenchmark.RunPathAsync(BenchArgs.Parse(args.Skip(1).ToArray()));
    case "device-memory":
        // What the heap holds at rest apart from devices (pools, table capacity) varies by a few MiB between readings:
        // the more devices, the less of that each one carries.
        return await DeviceBenchmark.RunMemoryAsync(BenchArgs.Parse(args.Skip(1).ToArray(), defaultDevices: 40_000));
    case "fleet-read":
        return await DeviceBenchmark.RunFleetReadAsync(BenchArgs.Parse(args.Skip(1).ToArray()));
    case SimulatorProcess.Scenario:
        // Started by device-memory: the simulated fleet in a process of its own, so the hub's heap is measured alone.
        return await SimulatorProcess.RunAsync(BenchArgs.Parse(args.Skip(1).ToArray()));
    default:
        await Console.Error.WriteLineAsync($"unknown scenario '{scenario}'; scenarios: message-log, gateway, device-path, device-memory, fleet-read");
        return 1;
}
