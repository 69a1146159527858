using NodaTime;
using OpenDcc.Core.Translation;
using OpenDcc.Simulator.Devices;
using static OpenDcc.Simulator.Tests.Devices.Meters;

namespace OpenDcc.Simulator.Tests.Devices;

public class PrepaymentTests
{
    private static readonly Instant Now = London(2026, 2, 10, 9, 0);

    private static SimulatedElectricityMeter PrepaymentMeter()
    {
        var meter = new SimulatedSite(21, 5).ElectricityMeter;
        meter.Succeeds(new DeviceOperation.ChangePaymentMode(PaymentMode.Prepayment), Now);
        return meter;
    }

    [Fact]
    public void Top_up_is_refused_by_a_meter_in_credit_mode()
    {
        var meter = new SimulatedSite(21, 5).ElectricityMeter;
        meter.Succeeds(new DeviceOperation.ChangePaymentMode(PaymentMode.Credit), Now);

        Assert.Equal(RefusalReason.WrongPaymentMode, meter.Refusal(new DeviceOperation.TopUp("00050012345678901234"), Now));
        Assert.Equal(RefusalReason.WrongPaymentMode, meter.Refusal(new DeviceOperation.ActivateEmergencyCredit(), Now));
    }

    [Fact]
    public void Top_up_credits_the_amount_in_the_first_six_digits_in_pence()
    {
        var meter = PrepaymentMeter();
        var before = meter.Balance(Now);

        meter.Succeeds(new DeviceOperation.TopUp("00250012345678901234"), Now);

        var after = meter.Balance(Now);
        Assert.Equal(PaymentMode.Prepayment, after.Mode);
        Assert.Equal(before.CreditPence + 2_500, after.CreditPence);
    }

    [Fact]
    public void A_utrn_used_before_on_the_meter_is_rejected()
    {
        var meter = PrepaymentMeter();
        meter.Succeeds(new DeviceOperation.TopUp("00100099999999999999"), Now);
        var balance = meter.Balance(Now).CreditPence;

        Assert.Equal(RefusalReason.UtrnRejected, meter.Refusal(new DeviceOperation.TopUp("00100099999999999999"), Now + Duration.FromMinutes(1)));
        Assert.Equal(balance, meter.Balance(Now).CreditPence);
    }

    [Theory]
    [InlineData("0010009999999999999")]
    [InlineData("001000999999999999990")]
    [InlineData("0010009999999999999X")]
    [InlineData("00000099999999999999")]
    [InlineData("")]
    public void A_utrn_that_is_not_20_digits_or_carries_no_credit_is_rejected(string utrn)
    {
        var meter = PrepaymentMeter();

        Assert.Equal(RefusalReason.UtrnRejected, meter.Refusal(new DeviceOperation.TopUp(utrn), Now));
    }

    [Fact]
    public void The_same_utrn_can_top_up_a_different_meter()
    {
        var meter = PrepaymentMeter();
        var gas = meter.Site.GasMeter;
        gas.Succeeds(new DeviceOperation.ChangePaymentMode(PaymentMode.Prepayment), Now);

        meter.Succeeds(new DeviceOperation.TopUp("00100012345678901234"), Now);
        gas.Succeeds(new DeviceOperation.TopUp("00100012345678901234"), Now);
    }

    [Fact]
    public void Credit_falls_with_consumption_at_the_unit_rate()
    {
        var meter = PrepaymentMeter();
        var later = Now + Duration.FromDays(3);
        var before = meter.Balance(Now).CreditPence;
        meter.Succeeds(new DeviceOperation.TopUp("05000012345678901234"), Now);

        var used = meter.Register(later) - meter.Register(Now);
        var after = meter.Balance(later).CreditPence;

        Assert.True(used > 0);
        Assert.Equal(before + 50_000 - (used * 25 / 1_000), after);
    }

    [Fact]
    public void Emergency_credit_is_offered_only_when_credit_is_low_and_then_shows_as_in_use()
    {
        var meter = PrepaymentMeter();
        Assert.Equal(RefusalReason.InvalidState, meter.Refusal(new DeviceOperation.ActivateEmergencyCredit(), Now));

        // Run the credit down: some weeks of use at 25p/kWh outruns the £5–£25 initial credit.
        var later = Now + Duration.FromDays(60);
        Assert.Equal(0, meter.Balance(later).CreditPence);
        meter.Succeeds(new DeviceOperation.ActivateEmergencyCredit(), later);

        var balance = meter.Balance(later + Duration.FromDays(1));
        Assert.Equal(0, balance.CreditPence);
        Assert.InRange(balance.EmergencyCreditInUsePence, 1, SimulatedMeter.EmergencyCreditLimitPence);
    }

    [Fact]
    public void Supply_cannot_be_enabled_on_a_prepayment_meter_with_no_credit()
    {
        var meter = PrepaymentMeter();
        var later = Now + Duration.FromDays(60);
        meter.Succeeds(new DeviceOperation.SetSupply(SupplyState.Disabled), later);

        Assert.Equal(RefusalReason.InvalidState, meter.Refusal(new DeviceOperation.SetSupply(SupplyState.Enabled), later));

        meter.Succeeds(new DeviceOperation.TopUp("10000012345678901234"), later);
        meter.Succeeds(new DeviceOperation.SetSupply(SupplyState.Enabled), later);
    }

    [Fact]
    public void One_site_in_five_or_so_starts_on_prepayment()
    {
        var fleet = new SimulatedFleet(3, 2_000);

        var prepayment = fleet.Sites.Count(s => s.InitialPaymentMode == PaymentMode.Prepayment);

        Assert.InRange(prepayment, 300, 500);
        var site = fleet.Sites.First(s => s.InitialPaymentMode == PaymentMode.Prepayment);
        Assert.Equal(PaymentMode.Prepayment, site.GasMeter.Balance(Now).Mode);
    }
}
