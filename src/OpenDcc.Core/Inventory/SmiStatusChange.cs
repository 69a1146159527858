using NodaTime;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Inventory;

/// <summary>Who changes the inventory, and when: a DUIS service request from a DCC user, or an operator (both null).</summary>
/// <param name="ServiceReferenceVariant">The SRV that made the change (e.g. <c>8.3</c>); null for an operator's change.</param>
/// <param name="User">The DCC user that sent it; null for an operator's change.</param>
public sealed record InventoryChange(Instant At, string? ServiceReferenceVariant = null, Eui64? User = null)
{
    /// <summary>A change an operator made (the CLI), not a service request.</summary>
    public static InventoryChange ByOperator(Instant at) => new(at);
}

/// <summary>One entry of a device's SMI status history: the status it had from <see cref="Since"/>, and who set it.</summary>
public sealed record SmiStatusChange(SmiStatus Status, Instant Since, string? ServiceReferenceVariant, Eui64? User);
