using NodaTime;
using OpenDcc.Core.AccessControl;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Wan;

namespace OpenDcc.Core.SmartGrid;

/// <summary>
/// Ad hoc power-quality reads for network operators: one meter, or many at once (a GSP group, a list of MPANs)
/// summarised as mean, minimum and maximum voltage and total active power. Every meter is read afresh through the
/// device path (<see cref="IDeviceReader"/>), at most <see cref="SmartGridOptions.Concurrency"/> at a time, until
/// a deadline; then the answer says how many meters answered, could not be reached, did not answer, failed, or were
/// still outstanding. Nothing is kept per meter: each answer is folded into running totals as it comes.
/// </summary>
/// <param name="statusMatrix">The SMI statuses 4.10 may go to (E5 otherwise), as for DUIS requests.</param>
public sealed class PowerQualitySurvey(IDeviceReader reader, SmartGridOptions options, SmiStatusMatrix statusMatrix)
{
    /// <summary>Reads every meter and summarises what they said by the deadline.</summary>
    /// <param name="meters">Distinct devices; meters out of service count as failed without being asked.</param>
    public async Task<PowerQualityAggregate> AggregateAsync(IReadOnlyList<Device> meters, Eui64 user, Duration deadline, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var tally = new PowerQualityTally();
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(deadline.ToTimeSpan());
        try
        {
            // Bulk lane: an aggregate over thousands of meters must not hold up suppliers' ordinary commands.
            await Parallel.ForEachAsync(
                meters,
                new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = timer.Token },
                async (meter, token) => tally.Add(await ReadAsync(meter, user, CommandPriority.Bulk, token)));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The deadline: answer with what has come.
        }
        return tally.Summarise(meters.Count);
    }

    /// <summary>Reads one meter; null when it has not answered by the deadline.</summary>
    public async Task<DeviceReading?> ReadAsync(Device meter, Eui64 user, Duration deadline, CancellationToken cancellationToken = default)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(deadline.ToTimeSpan());
        try
        {
            return await ReadAsync(meter, user, CommandPriority.Normal, timer.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    private Task<DeviceReading> ReadAsync(Device meter, Eui64 user, CommandPriority priority, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(meter);
        // The rule the DUIS gateway applies to 4.10 (E5): a meter in another SMI status is not sent it.
        return statusMatrix.Allows("4.10", meter.Status)
            ? reader.ReadAsync(meter, user, new DeviceOperation.ReadNetworkData(), priority, cancellationToken)
            : Task.FromResult<DeviceReading>(new DeviceReading.Failed(ResponseCode.DeviceStatusIncompatible.Code, $"device {meter.Id} is {meter.Status}, not in service"));
    }
}

/// <summary>Mean, lowest and highest RMS voltage of the meters that answered, in volts.</summary>
public sealed record VoltageSummary(decimal Mean, decimal Min, decimal Max);

/// <summary>Active import power of the meters that answered, in watts: their total, mean, lowest and highest.</summary>
public sealed record ActivePowerSummary(long Total, decimal Mean, int Min, int Max);

/// <summary>
/// What an aggregate power-quality read found. <see cref="MetersAsked"/> = <see cref="Answered"/> +
/// <see cref="Unreachable"/> (E20) + <see cref="NoAnswer"/> (E21) + <see cref="Failed"/> (refused, out of service,
/// unreadable) + <see cref="Outstanding"/> (no answer by the deadline). The summaries are null when none answered.
/// </summary>
public sealed record PowerQualityAggregate(
    int MetersAsked,
    int Answered,
    int Unreachable,
    int NoAnswer,
    int Failed,
    int Outstanding,
    VoltageSummary? Voltage,
    ActivePowerSummary? ActivePower,
    Instant? FirstReadAt,
    Instant? LastReadAt);

/// <summary>Running totals of an aggregate read; safe to add to from many readers at once.</summary>
internal sealed class PowerQualityTally
{
    private readonly Lock gate = new();
    private int answered;
    private int unreachable;
    private int noAnswer;
    private int failed;
    private long voltageSum;
    private int voltageMin = int.MaxValue;
    private int voltageMax = int.MinValue;
    private long powerSum;
    private int powerMin = int.MaxValue;
    private int powerMax = int.MinValue;
    private Instant? first;
    private Instant? last;

    public void Add(DeviceReading reading)
    {
        lock (gate)
        {
            switch (reading)
            {
                case DeviceReading.Answered { Outcome: DeviceOutcome.NetworkData data }:
                    answered++;
                    voltageSum += data.RmsVoltageDeciVolts;
                    voltageMin = Math.Min(voltageMin, data.RmsVoltageDeciVolts);
                    voltageMax = Math.Max(voltageMax, data.RmsVoltageDeciVolts);
                    powerSum += data.ActivePowerWatts;
                    powerMin = Math.Min(powerMin, data.ActivePowerWatts);
                    powerMax = Math.Max(powerMax, data.ActivePowerWatts);
                    first = first is { } earliest && earliest <= data.At ? earliest : data.At;
                    last = last is { } latest && latest >= data.At ? latest : data.At;
                    break;
                case DeviceReading.Failed f when f.ResponseCode == ResponseCode.UnableToCommunicate.Code:
                    unreachable++;
                    break;
                case DeviceReading.Failed f when f.ResponseCode == ResponseCode.NoResponseFromDevice.Code:
                    noAnswer++;
                    break;
                default:
                    failed++;
                    break;
            }
        }
    }

    public PowerQualityAggregate Summarise(int asked)
    {
        lock (gate)
        {
            var outstanding = asked - answered - unreachable - noAnswer - failed;
            return answered == 0
                ? new(asked, 0, unreachable, noAnswer, failed, outstanding, null, null, null, null)
                : new(
                    asked, answered, unreachable, noAnswer, failed, outstanding,
                    new VoltageSummary(Math.Round(voltageSum / 10m / answered, 2), voltageMin / 10m, voltageMax / 10m),
                    new ActivePowerSummary(powerSum, Math.Round((decimal)powerSum / answered, 2), powerMin, powerMax),
                    first,
                    last);
        }
    }
}
