using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Parties;

namespace OpenDcc.Core.SmartGrid;

/// <summary>Whether a user may have a smart-grid read; when not, why, in words an API answer can carry.</summary>
public sealed record SmartGridAccessDecision(bool IsAllowed, string? Reason)
{
    public static SmartGridAccessDecision Allowed { get; } = new(true, null);

    public static SmartGridAccessDecision Refuse(string reason) => new(false, reason);
}

/// <summary>
/// Who may read the network data of which meters: the seed's "ad hoc power quality reads … for network operators".
/// An active DCC user in the Electricity Distributor role (ED), for the MPANs of the distributors it acts for
/// (<see cref="DccUser.Distributors"/>); a GSP group is the area of its DNO. A pure function of its inputs.
/// </summary>
public static class SmartGridAccess
{
    public static SmartGridAccessDecision Decide(DccUser user, IEnumerable<Mpan> mpans)
    {
        ArgumentNullException.ThrowIfNull(mpans);
        if (Refusal(user) is { } refused)
        {
            return refused;
        }
        var outside = mpans.Where(m => !user.Distributors.Contains(m.Distributor)).Distinct().ToList();
        return outside.Count == 0
            ? SmartGridAccessDecision.Allowed
            : SmartGridAccessDecision.Refuse(
                $"MPAN {outside[0]} is on the network of distributor {outside[0].Distributor}, not one user {user.Id} acts for ({Acts(user)})"
                + (outside.Count > 1 ? $"; {outside.Count - 1} more MPANs are outside too" : ""));
    }

    public static SmartGridAccessDecision Decide(DccUser user, GspGroup group)
    {
        if (Refusal(user) is { } refused)
        {
            return refused;
        }
        var dno = Distributor.ForGspGroup(group);
        return user.Distributors.Contains(dno)
            ? SmartGridAccessDecision.Allowed
            : SmartGridAccessDecision.Refuse($"GSP group {group} ({group.AreaName}) is the area of distributor {dno}, not one user {user.Id} acts for ({Acts(user)})");
    }

    private static SmartGridAccessDecision? Refusal(DccUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (user.Status != DccUserStatus.Active)
        {
            return SmartGridAccessDecision.Refuse($"user {user.Id} is {user.Status.ToString().ToLowerInvariant()}");
        }
        if ((user.Roles & DccUserRole.ElectricityDistributor) == 0)
        {
            return SmartGridAccessDecision.Refuse($"smart-grid reads are for electricity distributors (ED); user {user.Id} holds {user.Roles.Codes()}");
        }
        return null;
    }

    private static string Acts(DccUser user) => user.Distributors.IsEmpty ? "none recorded" : user.Distributors.ToString();
}
