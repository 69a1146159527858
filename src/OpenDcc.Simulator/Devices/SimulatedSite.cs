using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Translation;

namespace OpenDcc.Simulator.Devices;

/// <summary>
/// One premises: a comms hub (CHF and GPF), an electricity meter, a gas meter and a PPMID, all named and configured
/// from the fleet seed and the site number. The meters, the comms hub function (its HAN device log) and the gas proxy
/// function (its copy of the gas meter's data) are simulated; the PPMID is an id.
/// </summary>
public sealed class SimulatedSite
{
    /// <summary>Sites are installed on a day in 2020–2024 drawn from the seed.</summary>
    private static readonly LocalDate FirstInstallDate = new(2020, 1, 1);
    private const int InstallDays = 5 * 365;

    private readonly FleetContext fleet;
    private Stoppage[] outages = [];

    public SimulatedSite(ulong fleetSeed, int number)
        : this(new FleetContext(fleetSeed), number)
    {
    }

    internal SimulatedSite(FleetContext fleet, int number)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(number);
        this.fleet = fleet;
        var fleetSeed = fleet.Seed;
        var identities = fleet.Identities;
        Number = number;
        var siteSeed = SeedMix.Mix(fleetSeed, (ulong)number, 0x517E);
        InstalledAt = SettlementCalendar.StartOf(FirstInstallDate.PlusDays(SeedMix.Below(siteSeed, InstallDays)));
        // One site in five is on prepayment.
        InitialPaymentMode = SeedMix.Below(SeedMix.Mix(siteSeed, 0x99), 5) == 0 ? PaymentMode.Prepayment : PaymentMode.Credit;
        InitialCreditPence = 500 + SeedMix.Below(SeedMix.Mix(siteSeed, 0xC4), 2_001);
        // On one of the 14 DNOs' networks (distributor IDs 10–23), numbered by site so that every MPAN and MPRN differs.
        Mpan = Mpan.Create(10 + SeedMix.Below(SeedMix.Mix(siteSeed, 0xD1), 14), 1_000_000_000L + number);

        ElectricityMeter = new SimulatedElectricityMeter(this, identities.IdOf(number, DeviceType.ESME), fleetSeed);
        GasMeter = new SimulatedGasMeter(this, identities.IdOf(number, DeviceType.GSME), fleetSeed);
    }

    public int Number { get; }

    /// <summary>The electricity metering point the site's ESME serves.</summary>
    public Mpan Mpan { get; }

    /// <summary>The gas metering point the site's GSME serves: made when asked, as a fleet of 100,000 sites keeps no strings per site.</summary>
    public Mprn Mprn
    {
        get
        {
            var body = (10_000_000 + Number).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Mprn.Parse(body + Mprn.ComputeCheckDigits(body).ToString("D2", System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Local midnight of the day the meters were installed; consumption counts from here.</summary>
    public Instant InstalledAt { get; }

    public PaymentMode InitialPaymentMode { get; }

    /// <summary>The credit a prepayment meter shows the first time its balance is asked for (£5–£25).</summary>
    public long InitialCreditPence { get; }

    public SimulatedElectricityMeter ElectricityMeter { get; }

    public SimulatedGasMeter GasMeter { get; }

    public Eui64 CommsHubId => fleet.Identities.IdOf(Number, DeviceType.CHF);

    /// <summary>The site's comms hub function, with its HAN device log (kept by the fleet, and only once it changes).</summary>
    public SimulatedCommsHub CommsHub => new(this, fleet);

    /// <summary>What the sites of the fleet share.</summary>
    internal FleetContext Fleet => fleet;

    public Eui64 GasProxyId => fleet.Identities.IdOf(Number, DeviceType.GPF);

    /// <summary>The site's gas proxy function, which answers reads of the gas meter from its copy of its data.</summary>
    public SimulatedGasProxy GasProxy => new(this);

    public Eui64 PpmidId => fleet.Identities.IdOf(Number, DeviceType.PPMID);

    /// <summary>The site's device ids with their types: ESME, GSME, CHF, GPF, PPMID.</summary>
    public IEnumerable<(Eui64 Id, DeviceType Type)> Devices =>
        SiteIdentities.SiteDeviceTypes.Select(type => (fleet.Identities.IdOf(Number, type), type));

    internal ReadOnlySpan<Stoppage> Outages => Volatile.Read(ref outages);

    /// <summary>
    /// The premises loses power over [<paramref name="from"/>, <paramref name="to"/>): both meters record nothing in
    /// it, the comms hub reports the loss of power at the start (<see cref="PowerLossesBetween"/>: to the WAN provider,
    /// as in SMETS2) and the electricity meter raises <see cref="DeviceAlertKind.PowerRestored"/> at the end
    /// (<see cref="AlertsBetween"/>). An outage that overlaps or touches another is one outage with it: the power goes
    /// once, at the earlier start, and returns once, at the later end.
    /// </summary>
    public void PowerOutage(Instant from, Instant to)
    {
        if (to <= from)
        {
            throw new ArgumentException($"an outage must end after it starts ({from} to {to})", nameof(to));
        }
        Stoppage[] current, updated;
        do
        {
            current = Volatile.Read(ref outages);
            updated = [.. current, new Stoppage(from, to)];
        }
        while (Interlocked.CompareExchange(ref outages, updated, current) != current);
    }

    /// <summary>When the power that is off at <paramref name="instant"/> returns (the end of its outage, later outages that overlap it included); null when the site has power then.</summary>
    public Instant? PowerReturnsAt(Instant instant)
    {
        // Asked of every exchange with the site's devices: nothing to work out while it has never lost power.
        if (Outages.IsEmpty)
        {
            return null;
        }
        foreach (var off in PowerOffRuns())
        {
            if (off.Covers(instant))
            {
                return off.End;
            }
        }
        return null;
    }

    /// <summary>When the comms hub lost power in [<paramref name="from"/>, <paramref name="to"/>), in time order: the starts of the outages (none where power was already off).</summary>
    public IReadOnlyList<Instant> PowerLossesBetween(Instant from, Instant to) =>
        [.. PowerOffRuns().Where(off => off.Start >= from && off.Start < to).Select(off => off.Start)];

    /// <summary>The electricity meter's alerts raised in [<paramref name="from"/>, <paramref name="to"/>), in time order: the supply restored at each outage's end (none while power stays off).</summary>
    public IReadOnlyList<DeviceAlert> AlertsBetween(Instant from, Instant to) =>
        [.. PowerOffRuns().Where(off => off.End >= from && off.End < to).Select(off => new DeviceAlert(DeviceAlertKind.PowerRestored, SimulatedAlertCodes.PowerRestored, off.End))];

    /// <summary>The outages as the site lives them: those that overlap or touch are one, the power going at the first start and returning at the last end.</summary>
    private List<Stoppage> PowerOffRuns() => Stoppage.Merged([.. Outages]);
}
