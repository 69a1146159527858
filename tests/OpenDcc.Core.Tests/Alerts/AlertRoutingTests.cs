using NodaTime;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Registration;
using OpenDcc.Core.Translation;

namespace OpenDcc.Core.Tests.Alerts;

public class AlertRoutingTests
{
    private static readonly Eui64 Supplier = Eui64.Parse("90-B3-D5-1F-30-01-00-00");
    private static readonly Eui64 NetworkOperator = Eui64.Parse("90-B3-D5-1F-30-02-00-00");
    private static readonly MeterPointRegistration Registered = new(null, null, Supplier, NetworkOperator);

    [Fact]
    public void A_power_outage_goes_to_the_network_operator_of_the_area_first_then_to_the_supplier() =>
        Assert.Equal([NetworkOperator, Supplier], AlertRouting.PowerOutageRecipients(Registered));

    [Fact]
    public void With_no_network_operator_registered_for_the_area_a_power_outage_goes_to_the_supplier_alone() =>
        Assert.Equal([Supplier], AlertRouting.PowerOutageRecipients(Registered with { NetworkOperator = null }));

    [Fact]
    public void The_supply_restored_goes_to_the_network_operator_then_the_supplier_and_a_credit_alert_to_the_supplier_alone()
    {
        var at = Instant.FromUtc(2026, 11, 29, 9, 0);
        Assert.Equal([NetworkOperator, Supplier], AlertRouting.Recipients(new DeviceAlert(DeviceAlertKind.PowerRestored, 0x8F36, at), Registered));
        Assert.Equal([Supplier], AlertRouting.Recipients(new DeviceAlert(DeviceAlertKind.LowCredit, 0x8F1C, at), Registered));
    }

    [Fact]
    public void A_party_that_is_both_supplier_and_network_operator_gets_one_copy() =>
        Assert.Equal([Supplier], AlertRouting.PowerOutageRecipients(Registered with { NetworkOperator = Supplier }));
}
