using System.Security.Cryptography;
using System.Xml.Linq;
using NodaTime;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Translation.EarlySmart;
using OpenDcc.Core.Translation.Gbcs;

namespace OpenDcc.Core.Tests.Translation;

/// <summary>
/// The operations read out of the inventory SRVs that go to devices (element names from the DUIS XSD and the RTDS
/// templates), and which device types the reference adapters carry them to.
/// </summary>
public sealed class DuisOperationsTests
{
    private static readonly Eui64 Meter = Eui64.Parse("00-DB-12-34-56-78-90-A0");

    private static XElement Body(string element, string inner) =>
        XElement.Parse($"<sr:{element} xmlns:sr=\"{DuisNamespaces.ServiceUserGateway}\">{inner}</sr:{element}>");

    private static DeviceOperation Read(string srv, XElement body)
    {
        Assert.True(DuisOperations.TryRead(srv, body, GatewayResponseCodes.Default, out var operation, out var refusal), refusal?.Reason);
        return operation!;
    }

    [Fact]
    public void Commission_device_reads_the_dccs_time_and_the_tolerance()
    {
        var operation = Read("8.1.1", Body("CommissionDeviceSynchroniseClock", "<sr:CurrentDateTime>2014-12-31T23:59:10.00Z</sr:CurrentDateTime><sr:TolerancePeriod>60</sr:TolerancePeriod>"));

        Assert.Equal(new DeviceOperation.CommissionDevice(Instant.FromUtc(2014, 12, 31, 23, 59, 10), Duration.FromSeconds(60)), operation);
    }

    [Fact]
    public void Critical_join_and_unjoin_read_the_other_device_as_the_non_critical_forms_do()
    {
        Assert.Equal(new DeviceOperation.JoinDevice(Meter), Read("8.7.1", Body("JoinServiceCritical", $"<sr:OtherDeviceID>{Meter}</sr:OtherDeviceID>")));
        Assert.Equal(new DeviceOperation.UnjoinDevice(Meter), Read("8.8.1", Body("UnjoinServiceCritical", $"<sr:OtherDeviceID>{Meter}</sr:OtherDeviceID>")));
    }

    [Fact]
    public void Update_han_device_log_reads_an_addition_with_its_install_code_and_a_removal()
    {
        var add = Read("8.11", Body("UpdateHANDeviceLog",
            $"<sr:DeviceID>{Meter}</sr:DeviceID><sr:RequestType>Add</sr:RequestType><sr:AddDeviceToCHFWhitelist><sr:JoinTimePeriod>90</sr:JoinTimePeriod>" +
            "<sr:InstallCode>30313233343536373839414243444546</sr:InstallCode><sr:ImportMPxN>1312345678111</sr:ImportMPxN></sr:AddDeviceToCHFWhitelist>"));
        var remove = Read("8.11", Body("UpdateHANDeviceLog", $"<sr:DeviceID>{Meter}</sr:DeviceID><sr:RequestType>Remove</sr:RequestType>"));

        Assert.Equal(new DeviceOperation.AddToDeviceLog(Meter, "30313233343536373839414243444546", Duration.FromSeconds(90)), add);
        Assert.Equal(new DeviceOperation.RemoveFromDeviceLog(Meter), remove);
    }

    [Theory]
    [InlineData("8.1.1", "CommissionDeviceSynchroniseClock", "<sr:CurrentDateTime>yesterday</sr:CurrentDateTime><sr:TolerancePeriod>60</sr:TolerancePeriod>", "CurrentDateTime")]
    [InlineData("8.1.1", "CommissionDeviceSynchroniseClock", "<sr:CurrentDateTime>2014-12-31T23:59:10Z</sr:CurrentDateTime><sr:TolerancePeriod>86401</sr:TolerancePeriod>", "TolerancePeriod")]
    [InlineData("8.11", "UpdateHANDeviceLog", "<sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID><sr:RequestType>Add</sr:RequestType>", "AddDeviceToCHFWhitelist")]
    [InlineData("8.11", "UpdateHANDeviceLog", "<sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID><sr:RequestType>Add</sr:RequestType><sr:AddDeviceToCHFWhitelist><sr:JoinTimePeriod>90</sr:JoinTimePeriod><sr:InstallCode>0102</sr:InstallCode></sr:AddDeviceToCHFWhitelist>", "InstallCode")]
    [InlineData("8.11", "UpdateHANDeviceLog", "<sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID><sr:RequestType>Add</sr:RequestType><sr:AddDeviceToCHFWhitelist><sr:JoinTimePeriod>0</sr:JoinTimePeriod><sr:InstallCode>010203040506</sr:InstallCode></sr:AddDeviceToCHFWhitelist>", "JoinTimePeriod")]
    [InlineData("8.11", "UpdateHANDeviceLog", "<sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID><sr:RequestType>Replace</sr:RequestType>", "RequestType")]
    public void A_malformed_body_is_refused_as_an_invalid_request_naming_the_field(string srv, string element, string inner, string field)
    {
        Assert.False(DuisOperations.TryRead(srv, Body(element, inner), GatewayResponseCodes.Default, out _, out var refusal));
        Assert.Equal(GatewayResponseCodes.Default.InvalidRequest, refusal!.Code);
        Assert.Contains(field, refusal.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void An_srv_not_translated_for_devices_is_refused_as_not_compatible_with_the_device()
    {
        Assert.False(DuisOperations.TryRead("6.2.4", Body("UpdateDeviceConfigurationAuxiliaryLoad", ""), GatewayResponseCodes.Default, out _, out var refusal));
        Assert.Equal(DuisOperations.NotTranslated, refusal!.Code);
    }

    [Fact]
    public void The_device_log_is_carried_to_comms_hubs_only_and_meter_operations_never_to_them()
    {
        using var acb = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var gbcs = new GbcsReferenceAdapter(Meter, acb, new NoDeviceKeys());
        using var earlySmart = new EarlySmartReferenceAdapter(Meter, new byte[32]);
        DeviceOperation log = new DeviceOperation.AddToDeviceLog(Meter, "010203040506", Duration.FromSeconds(90));
        DeviceOperation commission = new DeviceOperation.CommissionDevice(Instant.FromUnixTimeSeconds(0), Duration.Zero);

        Assert.True(gbcs.Carries(log, DeviceType.CHF));
        Assert.True(gbcs.Carries(new DeviceOperation.RemoveFromDeviceLog(Meter), DeviceType.CHF));
        Assert.False(gbcs.Carries(log, DeviceType.ESME));
        Assert.False(gbcs.Carries(commission, DeviceType.CHF));
        Assert.True(gbcs.Carries(commission, DeviceType.GSME));
        Assert.False(earlySmart.Carries(log, DeviceType.ESME));
        Assert.False(earlySmart.Carries(log, DeviceType.CHF));
    }

    private sealed class NoDeviceKeys : IDeviceKeyDirectory
    {
        public ECDiffieHellmanPublicKey? FindKeyAgreementKey(Eui64 device) => null;
    }
}
