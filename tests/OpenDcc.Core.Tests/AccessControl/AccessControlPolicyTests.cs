using System.Xml.Linq;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using OpenDcc.Core.AccessControl;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Parties;

namespace OpenDcc.Core.Tests.AccessControl;

/// <summary>The authorisation decision over generated requests, users and devices.</summary>
public class AccessControlPolicyTests
{
    private static readonly Eui64 Originator = Eui64.Parse("90-B3-D5-1F-30-01-00-00");
    private static readonly Eui64 Target = Eui64.Parse("00-DB-12-34-56-78-90-A0");

    [Property(MaxTest = 500)]
    public Property Only_an_active_user_with_an_eligible_role_is_ever_allowed() =>
        Prop.ForAll(Cases.ToArbitrary(), c =>
        {
            var allowed = AccessControlPolicy.Decide(c.Request, c.Context).IsAllowed;
            return !allowed || (c.Context.User is { Status: DccUserStatus.Active } user && c.Request.Variant.IsEligibleFor(user.Roles));
        });

    [Property(MaxTest = 500)]
    public Property A_device_request_is_allowed_only_to_a_device_in_the_inventory_in_a_status_the_matrix_allows_its_srv() =>
        Prop.ForAll(Cases.ToArbitrary(), c =>
        {
            var allowed = AccessControlPolicy.Decide(c.Request, c.Context).IsAllowed;
            return !allowed || c.Request.IsNonDevice || (c.Context.Device is { } device && SmiStatusMatrix.Default.Allows(c.Request.Variant.Id, device.Status));
        });

    [Property(MaxTest = 500)]
    public Property Everything_right_but_the_device_status_is_refused_E5_exactly_when_the_matrix_refuses_that_status_for_the_srv() =>
        Prop.ForAll(Gen.Elements<SmiStatus>([.. SmiStatuses.All]).ToArbitrary(), DeviceVariants.ToArbitrary(), (status, variant) =>
        {
            var cv = variant.IsCritical ? 4 : 1;
            CommandVariant.TryGet(cv, out var commandVariant);
            var request = RequestFor(variant, cv);
            var context = new AccessContext(EligibleUser(variant), commandVariant.Endpoint, new Device(Target, DeviceType.ESME, status));

            var decision = AccessControlPolicy.Decide(request, context);

            return SmiStatusMatrix.Default.Allows(variant.Id, status) ? decision.IsAllowed : decision.Refusal == ResponseCode.DeviceStatusIncompatible;
        });

    [Property(MaxTest = 300)]
    public Property An_installation_s_own_matrix_decides_E5_its_way() =>
        Prop.ForAll(MatrixCases.ToArbitrary(), c =>
        {
            var (status, variant, own, fallback) = c;
            var matrix = SmiStatusMatrix.Parse([$"*\t{string.Join(",", fallback)}", $"{variant.Id}\t{string.Join(",", own)}"]);
            var cv = variant.IsCritical ? 4 : 1;
            CommandVariant.TryGet(cv, out var commandVariant);
            var context = new AccessContext(EligibleUser(variant), commandVariant.Endpoint, new Device(Target, DeviceType.ESME, status), matrix);

            var decision = AccessControlPolicy.Decide(RequestFor(variant, cv), context);

            return own.Contains(status) ? decision.IsAllowed : decision.Refusal == ResponseCode.DeviceStatusIncompatible;
        });

    [Property(MaxTest = 300)]
    public Property The_statuses_of_an_srv_without_a_row_are_the_default_row_s() =>
        Prop.ForAll(DeviceVariants.ToArbitrary(), StatusSets.ToArbitrary(), (variant, fallback) =>
        {
            var other = variant.Id == "4.1.1" ? "4.1.2" : "4.1.1";
            var matrix = SmiStatusMatrix.Parse([$"*\t{string.Join(",", fallback)}", $"{other}\tWithdrawn"]);
            return SmiStatuses.All.All(s => matrix.Allows(variant.Id, s) == fallback.Contains(s));
        });

    [Property(MaxTest = 300)]
    public Property Non_device_requests_never_look_at_the_device() =>
        Prop.ForAll(NonDeviceVariants.ToArbitrary(), variant =>
        {
            var request = RequestFor(variant, 8);
            var user = EligibleUser(variant);
            return AccessControlPolicy.Decide(request, new AccessContext(user, DuisEndpoint.NonDevice, null)).IsAllowed
                && AccessControlPolicy.Decide(request, new AccessContext(user, DuisEndpoint.NonDevice, new Device(Target, DeviceType.ESME, SmiStatus.Withdrawn))).IsAllowed;
        });

    [Fact]
    public void Checks_run_in_order_so_the_first_failing_one_names_the_code()
    {
        var variant = ServiceCatalogue.Duis["4.1.1"];
        var request = RequestFor(variant, 1);
        var suspended = new DccUser(Originator, "Supplier", DccUserRole.ImportSupplier, DccUserStatus.Suspended);

        Assert.Equal(ResponseCode.InvalidUserOrRole, AccessControlPolicy.Decide(request, new AccessContext(null, DuisEndpoint.SendCommand, null)).Refusal);
        Assert.Equal(ResponseCode.UserStatusNotPermitted, AccessControlPolicy.Decide(request, new AccessContext(suspended, DuisEndpoint.SendCommand, null)).Refusal);
        Assert.Equal(ResponseCode.DeviceDoesNotExist, AccessControlPolicy.Decide(request, new AccessContext(EligibleUser(variant), DuisEndpoint.SendCommand, null)).Refusal);
        Assert.Equal(ResponseCode.RequestTypeNotValidForUrl, AccessControlPolicy.Decide(request, new AccessContext(EligibleUser(variant), DuisEndpoint.NonDevice, null)).Refusal);
    }

    private static Gen<(SmiStatus Status, ServiceReferenceVariant Variant, SmiStatus[] Own, SmiStatus[] Fallback)> MatrixCases =>
        from status in Gen.Elements<SmiStatus>([.. SmiStatuses.All])
        from variant in DeviceVariants
        from own in StatusSets
        from fallback in StatusSets
        select (status, variant, own, fallback);

    private static Gen<SmiStatus[]> StatusSets =>
        Gen.SubListOf<SmiStatus>([.. SmiStatuses.All]).Select(l => l.ToArray());

    private static Gen<ServiceReferenceVariant> DeviceVariants =>
        Gen.Elements<ServiceReferenceVariant>([.. ServiceCatalogue.Duis.Variants.Where(v => !v.IsNonDevice && v.EligibleRoles != DccUserRole.None)]);

    private static Gen<ServiceReferenceVariant> NonDeviceVariants =>
        Gen.Elements<ServiceReferenceVariant>([.. ServiceCatalogue.Duis.Variants.Where(v => v.IsNonDevice && v.EligibleRoles != DccUserRole.None)]);

    private static Gen<(DuisRequest Request, AccessContext Context)> Cases =>
        from variant in Gen.Elements<ServiceReferenceVariant>([.. ServiceCatalogue.Duis.Variants])
        from cv in Gen.Choose(1, 8)
        from endpoint in Gen.Elements(Enum.GetValues<DuisEndpoint>())
        from roles in Gen.SubListOf<DccUserRole>(DccUserRoles.All.ToArray()).Select(rs => rs.Aggregate(DccUserRole.None, (a, r) => a | r))
        from status in Gen.Elements(Enum.GetValues<DccUserStatus>())
        from hasUser in Gen.Elements(true, true, true, false)
        from deviceStatus in Gen.Elements<SmiStatus?>([null, .. SmiStatuses.All.Cast<SmiStatus?>()])
        select (RequestFor(variant, cv),
            new AccessContext(
                hasUser && roles != DccUserRole.None ? new DccUser(Originator, "User", roles, status) : null,
                endpoint,
                deviceStatus is { } s ? new Device(Target, DeviceType.ESME, s) : null));

    private static DccUser EligibleUser(ServiceReferenceVariant variant) => new(Originator, "User", variant.EligibleRoles);

    private static DuisRequest RequestFor(ServiceReferenceVariant variant, int commandVariant) =>
        new(new RequestId(Originator, Target, 1), commandVariant, variant, "5.1", null, null, new XElement(DuisNamespaces.Sr + variant.BodyElement));
}
