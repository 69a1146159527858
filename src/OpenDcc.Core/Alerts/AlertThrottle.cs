using System.Collections.Concurrent;
using NodaTime;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Alerts;

/// <summary>
/// How the DCC throttles alerts: per device and alert code, at most <see cref="AlertsPerWindow"/> are delivered in any
/// <see cref="Window"/>; the rest are counted, and the next one delivered carries the count. A count no alert has
/// carried yet is kept for <see cref="CarryFor"/> after the window, then dropped.
/// </summary>
/// <remarks>
/// OpenDcc's choice: DUIS gives the alerts the fields (<c>ThrottledAlertSequenceId</c>, <c>ThrottledAlertCount</c>) but
/// no sourced limits, so the defaults (5 per 10 minutes) are a guess at "a device flooding", not the DCC's figures.
/// </remarks>
public sealed record AlertThrottleOptions
{
    /// <exception cref="ArgumentOutOfRangeException">fewer than one alert per window, or a window or carry period that is not positive.</exception>
    public AlertThrottleOptions(int alertsPerWindow, Duration window, Duration carryFor)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(alertsPerWindow, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, Duration.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(carryFor, Duration.Zero);
        (AlertsPerWindow, Window, CarryFor) = (alertsPerWindow, window, carryFor);
    }

    public int AlertsPerWindow { get; }

    public Duration Window { get; }

    public Duration CarryFor { get; }

    public static AlertThrottleOptions Default { get; } = new(5, Duration.FromMinutes(10), Duration.FromDays(1));
}

/// <summary>
/// Alerts of one code from one device that were not delivered: <see cref="SequenceId"/> names the run of them (the XSD's
/// <c>ThrottledAlertSequenceId</c>, rising across the DCC), <see cref="Count"/> how many (<c>ThrottledAlertCount</c>).
/// </summary>
public readonly record struct ThrottledAlerts(uint SequenceId, uint Count);

/// <summary>What the throttle decided for one alert raised.</summary>
public abstract record AlertThrottleDecision
{
    private AlertThrottleDecision()
    {
    }

    /// <summary>Deliver it; <paramref name="Throttled"/>: the alerts of its code from its device not delivered since the last that was, which it reports.</summary>
    public sealed record Deliver(ThrottledAlerts? Throttled) : AlertThrottleDecision;

    /// <summary>Do not deliver it: it is counted in <paramref name="Throttled"/>, which the next alert delivered reports.</summary>
    public sealed record Suppress(ThrottledAlerts Throttled) : AlertThrottleDecision;
}

/// <summary>
/// The DCC's alert throttle: per (device, alert code), an alert is delivered when fewer than
/// <see cref="AlertThrottleOptions.AlertsPerWindow"/> of them were delivered in the <see cref="AlertThrottleOptions.Window"/>
/// before it (a sliding window: no span of that length ever holds more), else suppressed and counted. State is held in
/// memory for a device and code only while their window is open or a count waits to be carried: an idle device costs
/// nothing. Thread-safe.
/// </summary>
public sealed class AlertThrottle(AlertThrottleOptions options, IClock clock)
{
    private readonly ConcurrentDictionary<(Eui64 Device, string Code), Entry> entries = new();
    private readonly object sweeping = new();
    private long sequence;
    private Instant nextSweep = Instant.MinValue;

    public AlertThrottleOptions Options { get; } = options ?? throw new ArgumentNullException(nameof(options));

    /// <summary>How many (device, code) pairs the throttle holds state for.</summary>
    public int Tracked => entries.Count;

    /// <summary>Decides for an alert <paramref name="device"/> raised with <paramref name="alertCode"/> now.</summary>
    public AlertThrottleDecision Decide(Eui64 device, string alertCode)
    {
        ArgumentException.ThrowIfNullOrEmpty(alertCode);
        var now = clock.GetCurrentInstant();
        SweepIfDue(now);
        while (true)
        {
            var entry = entries.GetOrAdd((device, alertCode), static (_, allowance) => new Entry(allowance), Options.AlertsPerWindow);
            lock (entry)
            {
                if (entry.Removed)
                {
                    // Swept between the lookup and the lock: take a fresh one.
                    continue;
                }
                return entry.Decide(now, Options, this);
            }
        }
    }

    /// <summary>Drops what has expired: windows passed with nothing to carry, and counts kept past <see cref="AlertThrottleOptions.CarryFor"/>.</summary>
    public void RemoveExpired()
    {
        var now = clock.GetCurrentInstant();
        foreach (var (key, entry) in entries)
        {
            lock (entry)
            {
                if (entry.ExpiresAt(Options) <= now)
                {
                    entry.Removed = true;
                    entries.TryRemove(new KeyValuePair<(Eui64, string), Entry>(key, entry));
                }
            }
        }
    }

    /// <summary>A sequence ID above any given before, at least the clock in seconds so a restart does not go back (until 2106).</summary>
    private uint NextSequenceId(Instant now)
    {
        long current, next;
        do
        {
            current = Volatile.Read(ref sequence);
            next = Math.Max(current + 1, Math.Clamp(now.ToUnixTimeSeconds(), 1, uint.MaxValue));
        }
        while (Interlocked.CompareExchange(ref sequence, next, current) != current);
        return (uint)Math.Min(next, uint.MaxValue);
    }

    private void SweepIfDue(Instant now)
    {
        lock (sweeping)
        {
            // Due a window after the last; sooner when the clock stepped back, so a step back does not put sweeps off until it catches up.
            if (now < nextSweep && nextSweep - now <= Options.Window)
            {
                return;
            }
            nextSweep = now + Options.Window;
        }
        RemoveExpired();
    }

    /// <summary>One device's alerts of one code: when the last deliveries were (a ring of the window's allowance) and what waits to be carried.</summary>
    private sealed class Entry(int allowance)
    {
        // Instant.MinValue: no delivery in that slot yet.
        private readonly Instant[] delivered = Enumerable.Repeat(Instant.MinValue, allowance).ToArray();
        private int next;
        private uint sequenceId;
        private uint suppressed;

        public bool Removed { get; set; }

        public AlertThrottleDecision Decide(Instant now, AlertThrottleOptions options, AlertThrottle throttle)
        {
            // The clock stepped back (deliveries after now): they count as now, so the device is held back for at most
            // one window from the step, not until the clock catches up with them.
            for (var i = 0; i < delivered.Length; i++)
            {
                if (delivered[i] > now)
                {
                    delivered[i] = now;
                }
            }
            // The oldest of the last N deliveries: inside the window, N were delivered in it already.
            if (delivered[next] != Instant.MinValue && now - delivered[next] < options.Window)
            {
                if (suppressed == 0)
                {
                    sequenceId = throttle.NextSequenceId(now);
                }
                suppressed = suppressed == uint.MaxValue ? suppressed : suppressed + 1;
                return new AlertThrottleDecision.Suppress(new ThrottledAlerts(sequenceId, suppressed));
            }
            delivered[next] = now;
            next = (next + 1) % delivered.Length;
            ThrottledAlerts? carried = suppressed > 0 ? new ThrottledAlerts(sequenceId, suppressed) : null;
            suppressed = 0;
            return new AlertThrottleDecision.Deliver(carried);
        }

        /// <summary>When the window of the newest delivery has passed; with a count to carry, <see cref="AlertThrottleOptions.CarryFor"/> later.</summary>
        public Instant ExpiresAt(AlertThrottleOptions options)
        {
            var newest = delivered[(next + delivered.Length - 1) % delivered.Length];
            var windowEnd = newest == Instant.MinValue ? Instant.MinValue : newest + options.Window;
            return suppressed > 0 ? windowEnd + options.CarryFor : windowEnd;
        }
    }
}
