using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Parties;
using OpenDcc.Core.SmartGrid;
using OpenDcc.Core.Tests.Identifiers;

namespace OpenDcc.Core.Tests.SmartGrid;

public sealed class SmartGridAccessTests
{
    private static readonly Eui64 User = Eui64.Parse("90-B3-D5-1F-30-02-00-00");

    private static readonly Gen<DccUser> Users =
        from roles in Gen.Choose(1, 127)
        from status in Gen.Elements(Enum.GetValues<DccUserStatus>())
        from areas in Gen.SubListOf(Distributor.All.ToArray())
        select new DccUser(User, "User", (DccUserRole)roles, status) { Distributors = DistributorSet.Of(areas) };

    private static readonly Gen<List<Mpan>> Mpans = Gen.ListOf(IdentifierGenerators.MpanText.Select(Mpan.Parse)).Select(m => m.ToList());

    [Property(MaxTest = 500)]
    public Property An_mpan_list_is_allowed_exactly_to_an_active_distributor_acting_for_every_mpans_distributor() =>
        Prop.ForAll(Users.ToArbitrary(), Mpans.ToArbitrary(), (user, mpans) =>
            SmartGridAccess.Decide(user, mpans).IsAllowed
                == (user.Status == DccUserStatus.Active
                    && user.Roles.HasFlag(DccUserRole.ElectricityDistributor)
                    && mpans.All(m => user.Distributors.Contains(m.Distributor))));

    [Property(MaxTest = 500)]
    public Property A_gsp_group_is_allowed_exactly_to_an_active_distributor_acting_for_its_dno() =>
        Prop.ForAll(Users.ToArbitrary(), Gen.Elements(GspGroup.All.ToArray()).ToArbitrary(), (user, group) =>
            SmartGridAccess.Decide(user, group).IsAllowed
                == (user.Status == DccUserStatus.Active
                    && user.Roles.HasFlag(DccUserRole.ElectricityDistributor)
                    && user.Distributors.Contains(Distributor.ForGspGroup(group))));

    [Property(MaxTest = 300)]
    public Property A_refusal_always_says_why_and_names_the_first_mpan_outside_the_area() =>
        Prop.ForAll(Users.ToArbitrary(), Mpans.ToArbitrary(), (user, mpans) =>
        {
            var decision = SmartGridAccess.Decide(user, mpans);
            var outside = mpans.FirstOrDefault(m => !user.Distributors.Contains(m.Distributor));
            return decision.IsAllowed == (decision.Reason is null)
                && (decision.IsAllowed
                    || user.Status != DccUserStatus.Active
                    || !user.Roles.HasFlag(DccUserRole.ElectricityDistributor)
                    || decision.Reason!.Contains(outside.ToString(), StringComparison.Ordinal));
        });

    [Fact]
    public void A_supplier_is_told_the_reads_are_for_electricity_distributors()
    {
        var supplier = new DccUser(User, "Supplier", DccUserRole.ImportSupplier) { Distributors = DistributorSet.Of(Distributor.FromId(13)) };

        var decision = SmartGridAccess.Decide(supplier, GspGroup.Parse("_D"));

        Assert.False(decision.IsAllowed);
        Assert.Contains("(ED)", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void An_idno_mpan_needs_the_idno_not_the_dno_of_the_area_it_sits_in()
    {
        var dno = new DccUser(User, "DNO", DccUserRole.ElectricityDistributor) { Distributors = DistributorSet.Of(Distributor.All.Where(d => !d.IsIdno)) };
        var idnoMpan = Mpan.Create(24, 1234567890);

        Assert.False(SmartGridAccess.Decide(dno, [idnoMpan]).IsAllowed);
        Assert.True(SmartGridAccess.Decide(dno with { Distributors = DistributorSet.Of(Distributor.FromId(24)) }, [idnoMpan]).IsAllowed);
    }
}
