using System.Globalization;
using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Translation;

namespace OpenDcc.Simulator.Devices;

/// <summary>
/// What the simulated electricity and gas meters share: a register that is the exact sum of the profile, firmware,
/// supply, and prepayment credit.
/// </summary>
/// <remarks>
/// Per meter the simulator keeps only a few fields: consumption is recomputed from the seed on every read
/// (<see cref="ConsumptionModel"/>), and the only lists are the spans the supply was off (one per disable) and the
/// UTRNs used (one per top-up). Operations on one meter are serialised; <c>now</c> is expected not to go backwards.
/// </remarks>
public abstract class SimulatedMeter : ISimulatedDevice
{
    /// <summary>The firmware every simulated meter runs when installed.</summary>
    public const string InitialFirmwareVersion = "1.0.0";

    /// <summary>The most emergency credit a consumer can draw (£10).</summary>
    public const long EmergencyCreditLimitPence = 1_000;

    /// <summary>Emergency credit can be taken once credit is at or below this (£1).</summary>
    public const long EmergencyCreditThresholdPence = 100;

    private readonly Lock gate = new();
    private readonly HashSet<OpenDcc.Core.Identifiers.Eui64> joined = [];
    private readonly ConsumptionModel model;
    private string runningFirmware = InitialFirmwareVersion;
    private string? pendingFirmware;
    private string? pendingImageHash;
    private SupplyState supply = SupplyState.Enabled;
    private List<Stoppage>? supplyOff;
    private PaymentMode paymentMode;
    private HashSet<UInt128>? usedUtrns;
    private bool balanceAnchored;
    private long anchorPence;
    private long anchorRegister;
    private bool emergencyCreditActive;
    private LocalDate cachedThrough;
    private long cachedSum;
    private int cachedStoppages = -1;

    private protected SimulatedMeter(SimulatedSite site, Eui64 id, ulong fleetSeed, long meanDailyUnits, FuelShape shape)
    {
        Site = site;
        Id = id;
        model = new ConsumptionModel(SeedMix.Mix(fleetSeed, id.Value), meanDailyUnits, shape);
        paymentMode = site.InitialPaymentMode;
    }

    public Eui64 Id { get; }

    public abstract DeviceType Type { get; }

    public abstract RegisterUnit Unit { get; }

    /// <summary>The site the meter is installed at; its outages stop the meter's consumption.</summary>
    public SimulatedSite Site { get; }

    /// <summary>Consumption is counted from here (the site's install instant, a local midnight).</summary>
    public Instant InstalledAt => Site.InstalledAt;

    /// <summary>The unit rate prepayment credit is drawn down at, in thousandths of a penny per register unit.</summary>
    protected abstract long MilliPencePerUnit { get; }

    private protected ConsumptionModel Model => model;

    public DeviceOutcome Execute(DeviceOperation operation, Instant now)
    {
        ArgumentNullException.ThrowIfNull(operation);
        lock (gate)
        {
            if (!balanceAnchored)
            {
                ReanchorBalance(Site.InitialCreditPence, now);
            }
            return operation switch
            {
                DeviceOperation.ReadImportRegisters => new DeviceOutcome.Registers(RegisterAt(now), Unit, now),
                DeviceOperation.ReadProfile read => ReadProfile(read.From, read.To, now),
                DeviceOperation.ReadDailyReadLog log => ReadDailyReadLog(log.From, log.To, now),
                DeviceOperation.ReadMeterPoint => new DeviceOutcome.MeterPoint(MeterPoint),
                DeviceOperation.ReadPaymentMode => new DeviceOutcome.PaymentModeSetting(paymentMode),
                DeviceOperation.ReadDeviceLog => new DeviceOutcome.DeviceLog([.. joined.Order()]),
                DeviceOperation.ReadActivePower => ReadActivePower(now),
                DeviceOperation.ReadNetworkData => ReadNetworkData(now),
                DeviceOperation.ReadFirmwareVersion => new DeviceOutcome.FirmwareVersion(runningFirmware, pendingFirmware),
                DeviceOperation.UpdateFirmware update => UpdateFirmware(update.Version, update.ImageHash),
                DeviceOperation.ActivateFirmware activate => ActivateFirmware(activate.ImageHash),
                DeviceOperation.SetSupply set => SetSupply(set.Target, now),
                DeviceOperation.ReadSupplyStatus => new DeviceOutcome.SupplyStatus(supply),
                DeviceOperation.TopUp topUp => TopUp(topUp.Utrn, now),
                DeviceOperation.ActivateEmergencyCredit => ActivateEmergencyCredit(now),
                DeviceOperation.ReadMeterBalance => ReadMeterBalance(now),
                DeviceOperation.ChangePaymentMode change => ChangePaymentMode(change.Mode, now),
                DeviceOperation.JoinDevice join => Join(join.Other, now),
                DeviceOperation.UnjoinDevice unjoin => Unjoin(unjoin.Other),
                DeviceOperation.CommissionDevice commission => Commission(commission, now),
                _ => NotSupported(operation),
            };
        }
    }

    /// <summary>The devices joined to this meter on its HAN (PPMIDs, IHDs), in ID order.</summary>
    public IReadOnlyList<OpenDcc.Core.Identifiers.Eui64> Joined
    {
        get
        {
            lock (gate)
            {
                return [.. joined.Order()];
            }
        }
    }

    /// <summary>
    /// When the DCC commissioned the meter (8.1.1), setting its clock: null while it has not been. The simulated meter's
    /// clock is the simulation's, so what commissioning sets is this instant. Kept by the fleet, not per meter: few
    /// of a large fleet's meters are ever commissioned through the DCC.
    /// </summary>
    public Instant? CommissionedAt => Site.Fleet.Commissioned.TryGetValue(Id, out var at) ? at : null;

    /// <summary>
    /// Pairs with another device, which the site's comms hub must let join its HAN (in its device log and, if 8.11 added
    /// it, within its join time period); joining one already joined is done again, as a meter would answer.
    /// </summary>
    private DeviceOutcome Join(OpenDcc.Core.Identifiers.Eui64 other, Instant now)
    {
        if (Site.CommsHub.Join(other, now) is { } refusal)
        {
            return new DeviceOutcome.Refused(RefusalReason.NotInDeviceLog, refusal);
        }
        joined.Add(other);
        return new DeviceOutcome.Done();
    }

    /// <summary>
    /// 8.1.1: the DCC's time must be within the tolerance of the meter's own, as a GBCS device checks a clock command's
    /// validity window; then the meter is commissioned (again, for one that was: its clock is synchronised anew).
    /// </summary>
    private DeviceOutcome Commission(DeviceOperation.CommissionDevice commission, Instant now)
    {
        var drift = commission.CurrentDateTime - now;
        if (drift > commission.Tolerance || -drift > commission.Tolerance)
        {
            return new DeviceOutcome.Refused(RefusalReason.InvalidState, $"the DCC's time {commission.CurrentDateTime} is more than {commission.Tolerance.TotalSeconds:0} s from the meter's clock {now}");
        }
        Site.Fleet.Commissioned[Id] = now;
        return new DeviceOutcome.Done();
    }

    /// <summary>Forgets a device; one not joined is refused, as there is nothing to unjoin.</summary>
    private DeviceOutcome Unjoin(OpenDcc.Core.Identifiers.Eui64 other) =>
        joined.Remove(other) ? new DeviceOutcome.Done() : new DeviceOutcome.Refused(RefusalReason.InvalidState, $"device {other} is not joined to this meter");

    /// <summary>The consumer presses the button on an armed meter: supply comes back on. False if the meter was not armed.</summary>
    public bool PressSupplyButton(Instant now)
    {
        lock (gate)
        {
            if (supply != SupplyState.Armed)
            {
                return false;
            }
            TurnOn(now);
            return true;
        }
    }

    private protected abstract DeviceOutcome ReadProfile(Instant from, Instant to, Instant now);

    /// <summary>The MPAN or MPRN the meter is configured with, as DUIS writes it.</summary>
    private protected abstract string MeterPoint { get; }

    /// <summary>How many daily reads the meter keeps, today's midnight the newest: 731 (two years'), as a SMETS2 meter's daily read log does; older ones are gone.</summary>
    public const int DailyReadLogDays = 731;

    /// <summary>
    /// The register at each local midnight in [<paramref name="from"/>, <paramref name="to"/>), oldest first: none
    /// before the meter was installed, none after <paramref name="now"/>, and only the newest <see cref="DailyReadLogDays"/>.
    /// </summary>
    private DeviceOutcome.DailyReads ReadDailyReadLog(Instant from, Instant to, Instant now)
    {
        var kept = SettlementCalendar.StartOf(SettlementCalendar.DateOf(now).PlusDays(1 - DailyReadLogDays));
        var first = Max(Max(from, InstalledAt), kept);
        var date = SettlementCalendar.DateOf(first);
        if (SettlementCalendar.StartOf(date) < first)
        {
            date = date.PlusDays(1);
        }
        var reads = new List<RegisterRead>();
        for (var midnight = SettlementCalendar.StartOf(date); midnight < to && midnight <= now; date = date.PlusDays(1), midnight = SettlementCalendar.StartOf(date))
        {
            reads.Add(new RegisterRead(midnight, RegisterAt(midnight)));
        }
        return new DeviceOutcome.DailyReads(Unit, reads);
    }

    private static Instant Max(Instant a, Instant b) => a > b ? a : b;

    private protected virtual DeviceOutcome ReadNetworkData(Instant now) => NotSupported(new DeviceOperation.ReadNetworkData());

    private protected virtual DeviceOutcome ReadActivePower(Instant now) => NotSupported(new DeviceOperation.ReadActivePower());

    /// <summary>Whether this meter type can be sent to <paramref name="target"/> remotely; null if it can.</summary>
    private protected virtual string? CannotSetSupply(SupplyState target) => null;

    private protected DeviceOutcome.Refused NotSupported(DeviceOperation operation) =>
        new(RefusalReason.NotSupported, $"a {Type} cannot do {operation.GetType().Name}");

    /// <summary>Whether the supply is on and the premises has power at <paramref name="instant"/>.</summary>
    private protected bool IsConsuming(Instant instant)
    {
        if (instant < InstalledAt)
        {
            return false;
        }
        foreach (var s in SupplyOffSpans)
        {
            if (s.Covers(instant))
            {
                return false;
            }
        }
        foreach (var s in Site.Outages)
        {
            if (s.Covers(instant))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// The register at <paramref name="now"/>: whole days' closed-form totals where nothing stopped consumption, the
    /// periods of the first day, of the current day and of days a stoppage touched — the same per-period values the profile reports.
    /// </summary>
    private protected long RegisterAt(Instant now)
    {
        if (now <= InstalledAt)
        {
            return 0;
        }
        var first = SettlementCalendar.DateOf(InstalledAt);
        var today = SettlementCalendar.DateOf(now);
        var touched = TouchedDays(now);
        Span<long> values = stackalloc long[ConsumptionModel.MaxPeriodsPerDay];
        // Past days do not change once over, unless a stoppage is added (stoppages are only ever added): the sum of the
        // days before the last read's day is kept and the walk resumes from there.
        var stoppages = (supplyOff?.Count ?? 0) + Site.Outages.Length;
        var (date, sum) = stoppages == cachedStoppages && cachedThrough > first && cachedThrough <= today ? (cachedThrough, cachedSum) : (first, 0L);
        for (; date < today; date = date.PlusDays(1))
        {
            sum += date == first || IsTouched(date, touched) ? DayConsumption(date, now, values) : model.DayTotal(date);
        }
        (cachedThrough, cachedSum, cachedStoppages) = (today, sum, stoppages);
        return sum + (today == first || IsTouched(today, touched) ? DayConsumption(today, now, values) : UninterruptedDayConsumption(today, now, values));
    }

    /// <summary>
    /// <see cref="DayConsumption"/> for a day no stoppage touched and installed before it began: whole periods as they
    /// are, the current one scaled by the share of it that has passed, rounded down.
    /// </summary>
    private long UninterruptedDayConsumption(LocalDate date, Instant now, Span<long> values)
    {
        var (start, count) = model.DayPeriods(date, values);
        var elapsed = (now - start).BclCompatibleTicks;
        var period = SettlementCalendar.PeriodLength.BclCompatibleTicks;
        var whole = (int)Math.Min(count, elapsed / period);
        long sum = 0;
        for (var k = 0; k < whole; k++)
        {
            sum += values[k];
        }
        return whole < count ? sum + (values[whole] * (elapsed - (whole * period)) / period) : sum;
    }

    /// <summary>A settlement day's recorded consumption up to <paramref name="now"/>.</summary>
    private protected long DayConsumption(LocalDate date, Instant now, Span<long> values)
    {
        var (start, count) = model.DayPeriods(date, values);
        long sum = 0;
        for (var k = 0; k < count; k++)
        {
            var periodStart = start + (SettlementCalendar.PeriodLength * k);
            sum += PeriodConsumption(periodStart, values[k], now);
        }
        return sum;
    }

    /// <summary>
    /// What a period records up to <paramref name="now"/>: its uninterrupted value scaled by the share of the period
    /// the meter was installed, supplied and powered, rounded down.
    /// </summary>
    private protected long PeriodConsumption(Instant periodStart, long uninterrupted, Instant now)
    {
        var periodEnd = periodStart + SettlementCalendar.PeriodLength;
        var from = periodStart > InstalledAt ? periodStart : InstalledAt;
        var to = periodEnd < now ? periodEnd : now;
        var on = Stoppage.Uncovered(from, to, SupplyOffSpans, Site.Outages);
        if (on == SettlementCalendar.PeriodLength)
        {
            return uninterrupted;
        }
        return uninterrupted * on.BclCompatibleTicks / SettlementCalendar.PeriodLength.BclCompatibleTicks;
    }

    private ReadOnlySpan<Stoppage> SupplyOffSpans =>
        supplyOff is null ? ReadOnlySpan<Stoppage>.Empty : System.Runtime.InteropServices.CollectionsMarshal.AsSpan(supplyOff);

    private List<(LocalDate From, LocalDate To)>? TouchedDays(Instant now)
    {
        List<(LocalDate, LocalDate)>? days = null;
        Add(SupplyOffSpans);
        Add(Site.Outages);
        return days;

        void Add(ReadOnlySpan<Stoppage> spans)
        {
            foreach (var s in spans)
            {
                if (s.Start >= now)
                {
                    continue;
                }
                var end = s.End < now ? s.End : now;
                (days ??= []).Add((SettlementCalendar.DateOf(s.Start), SettlementCalendar.DateOf(end - Duration.Epsilon)));
            }
        }
    }

    private static bool IsTouched(LocalDate date, List<(LocalDate From, LocalDate To)>? touched)
    {
        if (touched is null)
        {
            return false;
        }
        foreach (var (from, to) in touched)
        {
            if (from <= date && date <= to)
            {
                return true;
            }
        }
        return false;
    }

    private DeviceOutcome.Done UpdateFirmware(string version, ReadOnlyMemory<byte> imageHash)
    {
        pendingFirmware = version;
        pendingImageHash = Convert.ToHexString(imageHash.Span);
        return new DeviceOutcome.Done();
    }

    /// <summary>11.3 names the image by its hash: the pending image is activated only if it is that one.</summary>
    private DeviceOutcome ActivateFirmware(string imageHash)
    {
        if (pendingFirmware is null || !string.Equals(pendingImageHash, imageHash, StringComparison.OrdinalIgnoreCase))
        {
            return new DeviceOutcome.Refused(
                RefusalReason.NoPendingFirmware,
                pendingFirmware is null ? $"no firmware image is pending; running {runningFirmware}" : $"the pending image ({pendingFirmware}) has hash {pendingImageHash}, not {imageHash}");
        }
        runningFirmware = pendingFirmware;
        (pendingFirmware, pendingImageHash) = (null, null);
        return new DeviceOutcome.Done();
    }

    private DeviceOutcome SetSupply(SupplyState target, Instant now)
    {
        if (CannotSetSupply(target) is { } why)
        {
            return new DeviceOutcome.Refused(RefusalReason.NotSupported, why);
        }
        if (target == SupplyState.Enabled)
        {
            if (paymentMode == PaymentMode.Prepayment && BalancePence(now) <= 0 && !emergencyCreditActive)
            {
                return new DeviceOutcome.Refused(RefusalReason.InvalidState, "no credit: top up or take emergency credit before enabling supply");
            }
            TurnOn(now);
        }
        else
        {
            if (supply == SupplyState.Enabled)
            {
                (supplyOff ??= []).Add(new Stoppage(now, Instant.MaxValue));
            }
            supply = target;
        }
        return new DeviceOutcome.Done();
    }

    private void TurnOn(Instant now)
    {
        if (supply != SupplyState.Enabled && supplyOff is { Count: > 0 } spans && spans[^1].IsOpen)
        {
            var open = spans[^1];
            spans[^1] = open with { End = now > open.Start ? now : open.Start };
        }
        supply = SupplyState.Enabled;
    }

    /// <summary>
    /// Credit in pence: in prepayment mode it is drawn down by the register's growth at the unit rate; in credit mode
    /// it is frozen. The meter holds the site's initial credit at the first operation it is sent (the simulation
    /// does not replay the years between install and first contact).
    /// </summary>
    private long BalancePence(Instant now) =>
        paymentMode == PaymentMode.Prepayment
            ? anchorPence - ((RegisterAt(now) - anchorRegister) * MilliPencePerUnit / 1000)
            : anchorPence;

    private void ReanchorBalance(long pence, Instant now)
    {
        anchorPence = pence;
        anchorRegister = RegisterAt(now);
        balanceAnchored = true;
    }

    /// <summary>
    /// A UTRN is accepted once per meter if it is 20 ASCII digits; the simulator's rule for its value is that the
    /// first six digits are the amount in pence (so 000500… credits £5), and an amount of zero is rejected. There is no check digit.
    /// </summary>
    private DeviceOutcome TopUp(string utrn, Instant now)
    {
        if (paymentMode != PaymentMode.Prepayment)
        {
            return new DeviceOutcome.Refused(RefusalReason.WrongPaymentMode, "the meter is in credit mode");
        }
        if (utrn is not { Length: 20 } || !utrn.All(char.IsAsciiDigit))
        {
            return new DeviceOutcome.Refused(RefusalReason.UtrnRejected, "a UTRN is 20 digits");
        }
        var key = UInt128.Parse(utrn, CultureInfo.InvariantCulture);
        if (usedUtrns?.Contains(key) == true)
        {
            return new DeviceOutcome.Refused(RefusalReason.UtrnRejected, "this UTRN has already been used on this meter");
        }
        var amount = long.Parse(utrn.AsSpan(0, 6), CultureInfo.InvariantCulture);
        if (amount == 0)
        {
            return new DeviceOutcome.Refused(RefusalReason.UtrnRejected, "the UTRN carries no credit");
        }
        (usedUtrns ??= []).Add(key);
        var balance = BalancePence(now) + amount;
        ReanchorBalance(balance, now);
        if (balance > 0)
        {
            emergencyCreditActive = false;
        }
        return new DeviceOutcome.Done();
    }

    private DeviceOutcome ActivateEmergencyCredit(Instant now)
    {
        if (paymentMode != PaymentMode.Prepayment)
        {
            return new DeviceOutcome.Refused(RefusalReason.WrongPaymentMode, "the meter is in credit mode");
        }
        var balance = BalancePence(now);
        if (balance > EmergencyCreditThresholdPence)
        {
            return new DeviceOutcome.Refused(
                RefusalReason.InvalidState,
                $"emergency credit is offered only at or below {EmergencyCreditThresholdPence}p of credit; the meter has {balance}p");
        }
        emergencyCreditActive = true;
        return new DeviceOutcome.Done();
    }

    /// <summary>
    /// Below zero, credit is shown as emergency credit in use if emergency credit was taken (up to the limit). The
    /// simulator does not disconnect when credit runs out; the balance simply goes on falling.
    /// </summary>
    private DeviceOutcome.Balance ReadMeterBalance(Instant now)
    {
        var balance = BalancePence(now);
        var credit = Math.Max(0, balance);
        var emergencyInUse = balance < 0 && emergencyCreditActive ? Math.Min(-balance, EmergencyCreditLimitPence) : 0;
        return new DeviceOutcome.Balance(credit, emergencyInUse, paymentMode);
    }

    private DeviceOutcome.Done ChangePaymentMode(PaymentMode mode, Instant now)
    {
        if (mode != paymentMode)
        {
            var balance = BalancePence(now);
            paymentMode = mode;
            ReanchorBalance(balance, now);
            if (mode == PaymentMode.Credit)
            {
                emergencyCreditActive = false;
            }
        }
        return new DeviceOutcome.Done();
    }
}
