using System.Globalization;
using System.Numerics;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Parties;

/// <summary>
/// The electricity distributors a DCC user acts for (a network operator's distribution areas): which MPANs it may
/// ask smart-grid reads of. A value: two sets holding the same distributors are equal.
/// </summary>
/// <remarks>Held as one bit per distributor ID; the IDs in <see cref="Distributor.All"/> are 10 to 36, well under 64.</remarks>
public readonly record struct DistributorSet
{
    private readonly ulong bits;

    private DistributorSet(ulong bits) => this.bits = bits;

    public static DistributorSet None => default;

    public bool IsEmpty => bits == 0;

    public int Count => BitOperations.PopCount(bits);

    /// <summary>The distributors in ID order.</summary>
    public IEnumerable<Distributor> Distributors
    {
        get
        {
            for (var remaining = bits; remaining != 0; remaining &= remaining - 1)
            {
                yield return Distributor.FromId(BitOperations.TrailingZeroCount(remaining));
            }
        }
    }

    public static DistributorSet Of(IEnumerable<Distributor> distributors)
    {
        ArgumentNullException.ThrowIfNull(distributors);
        return new(distributors.Aggregate(0UL, (acc, d) => acc | Bit(d.Id)));
    }

    public static DistributorSet Of(params Distributor[] distributors) => Of((IEnumerable<Distributor>)distributors);

    public bool Contains(Distributor distributor)
    {
        ArgumentNullException.ThrowIfNull(distributor);
        return (bits & Bit(distributor.Id)) != 0;
    }

    /// <summary>The IDs separated by spaces (<c>13 18</c>), as the stores keep them; empty for none.</summary>
    public string ToCodes() => string.Join(' ', Distributors.Select(d => d.Id.ToString(CultureInfo.InvariantCulture)));

    /// <summary>Reads IDs separated by spaces or commas.</summary>
    /// <exception cref="FormatException">a part is not a known distributor ID; the message names it.</exception>
    public static DistributorSet Parse(string codes)
    {
        ArgumentNullException.ThrowIfNull(codes);
        var distributors = new List<Distributor>();
        foreach (var part in codes.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || !Distributor.TryFromId(id, out var distributor))
            {
                throw new FormatException($"'{part}' is not a known distributor ID (10 to 23 for the DNOs, 24 to {Distributor.All[^1].Id} for the IDNOs)");
            }
            distributors.Add(distributor);
        }
        return Of(distributors);
    }

    /// <summary>The distributors, e.g. <c>13 SP Energy Networks, 18 SP Energy Networks</c>.</summary>
    public override string ToString() => string.Join(", ", Distributors);

    private static ulong Bit(int id) => id is >= 0 and < 64 ? 1UL << id : throw new ArgumentOutOfRangeException(nameof(id), id, "a distributor ID above 63 does not fit a DistributorSet");
}
