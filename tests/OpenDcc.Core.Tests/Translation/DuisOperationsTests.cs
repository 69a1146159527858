using System.Security.Cryptography;
using System.Xml;
using System.Xml.Linq;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
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
    [InlineData("2.2", "TopUp", "<sr:UTRN>1234567890123456789</sr:UTRN>", "UTRN")]
    [InlineData("2.2", "TopUp", "<sr:UTRN>1234567890123456789A</sr:UTRN>", "UTRN")]
    [InlineData("11.3", "ActivateFirmware", "<sr:FirmwareHash>1.1.0</sr:FirmwareHash>", "FirmwareHash")]
    [InlineData("11.3", "ActivateFirmware", "<sr:FirmwareHash>00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEF</sr:FirmwareHash>", "FirmwareHash")]
    // An element the SRV's body does not take, named in full.
    [InlineData("4.1.1", "ReadInstantaneousImportRegisters", "<sr:Bogus/>", "SRV 4.1.1: sr:ReadInstantaneousImportRegisters holds sr:Bogus, which it does not take")]
    [InlineData("7.2", "DisableSupply", "<sr:ExecutionDateTime>2026-12-01T00:00:00Z</sr:ExecutionDateTime>", "SRV 7.2: sr:DisableSupply holds sr:ExecutionDateTime, which it does not take")]
    [InlineData("4.8.1", "ReadActiveImportProfileData", "<sr:ReadLogPeriod><sr:StartDateTime>2026-11-01T00:00:00Z</sr:StartDateTime><sr:EndDateTime>2026-11-02T00:00:00Z</sr:EndDateTime></sr:ReadLogPeriod><x:ReadLogPeriod xmlns:x=\"urn:other\"/>", "holds {urn:other}ReadLogPeriod, which it does not take")]
    [InlineData("2.2", "TopUpDevice", "<sr:UTRN>12345678901234567890</sr:UTRN><sr:Amount>5</sr:Amount>", "SRV 2.2: sr:TopUpDevice holds sr:Amount, which it does not take")]
    public void A_malformed_body_is_refused_as_an_invalid_request_naming_the_field(string srv, string element, string inner, string field)
    {
        Assert.False(DuisOperations.TryRead(srv, Body(element, inner), GatewayResponseCodes.Default, out _, out var refusal));
        Assert.Equal(GatewayResponseCodes.Default.InvalidRequest, refusal!.Code);
        Assert.Contains(field, refusal.Reason, StringComparison.Ordinal);
    }

    /// <summary>A profile read's period: the DUIS body of 4.8.1 from <paramref name="start"/> to <paramref name="end"/>.</summary>
    private static XElement ProfilePeriod(string start, string end) =>
        Body("ReadActiveImportProfileData", $"<sr:ReadLogPeriod><sr:StartDateTime>{start}</sr:StartDateTime><sr:EndDateTime>{end}</sr:EndDateTime></sr:ReadLogPeriod>");

    [Fact]
    public void A_date_time_is_read_in_utc_or_with_its_offset()
    {
        // 02:30 BST on the day the clocks go back is 01:30 UTC; the templates write two fraction digits.
        Assert.Equal(
            new DeviceOperation.ReadProfile(Instant.FromUtc(2026, 10, 25, 1, 30), Instant.FromUtc(2026, 10, 26, 0, 0)),
            Read("4.8.1", ProfilePeriod("2026-10-25T02:30:00+01:00", "2026-10-26T00:00:00.00Z")));
    }

    [Theory]
    // A time alone, which .NET dates from the machine's clock (today), not the request.
    [InlineData("00:00", "23:59")]
    // A date in a culture's order: 11/01 is 1 November to .NET's invariant culture, 11 January in GB.
    [InlineData("11/01/2026 00:00:00", "11/02/2026 00:00:00")]
    // No zone: 01:30 on the day the clocks go back happens twice in GB.
    [InlineData("2026-10-25T01:30:00", "2026-10-26T00:00:00Z")]
    // A date alone is no xs:dateTime.
    [InlineData("2026-10-25", "2026-10-26T00:00:00Z")]
    // An offset taking the time past the last instant OpenDcc holds, or before the first.
    [InlineData("2026-10-25T00:00:00Z", "9999-12-31T23:59:59-01:00")]
    [InlineData("-9998-01-01T00:00:00+01:00", "2026-10-26T00:00:00Z")]
    public void A_date_time_that_is_no_utc_or_offset_date_time_is_refused_naming_the_field(string start, string end)
    {
        Assert.False(DuisOperations.TryRead("4.8.1", ProfilePeriod(start, end), GatewayResponseCodes.Default, out var operation, out var refusal), $"read as {operation}");
        Assert.Equal(GatewayResponseCodes.Default.InvalidRequest, refusal!.Code);
        Assert.Contains(start.EndsWith('Z') ? "EndDateTime" : "StartDateTime", refusal.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_future_dated_body_keeps_its_execution_date_time_for_the_gateway_to_answer()
    {
        Assert.Equal(new DeviceOperation.ReadImportRegisters(), Read("4.1.1", Body("ReadInstantaneousImportRegisters", "<sr:ExecutionDateTime>2026-12-01T00:00:00Z</sr:ExecutionDateTime>")));
    }

    [Fact]
    public void An_srv_not_translated_for_devices_is_refused_as_not_compatible_with_the_device()
    {
        Assert.False(DuisOperations.TryRead("6.2.4", Body("UpdateDeviceConfigurationAuxiliaryLoad", ""), GatewayResponseCodes.Default, out _, out var refusal));
        Assert.Equal(DuisOperations.NotTranslated, refusal!.Code);
    }

    [Fact]
    public void The_daily_read_log_meter_point_and_payment_mode_reads_are_read_from_their_bodies()
    {
        var period = "<sr:ReadLogPeriod><sr:StartDateTime>2014-03-09T00:00:00.00Z</sr:StartDateTime><sr:EndDateTime>2014-03-11T00:00:00.00Z</sr:EndDateTime></sr:ReadLogPeriod>";

        Assert.Equal(new DeviceOperation.ReadDailyReadLog(Instant.FromUtc(2014, 3, 9, 0, 0), Instant.FromUtc(2014, 3, 11, 0, 0)), Read("4.6.1", Body("RetrieveImportDailyReadLog", period)));
        Assert.Equal(new DeviceOperation.ReadMeterPoint(), Read("6.2.7", Body("ReadDeviceConfigurationMPxN", "")));
        Assert.Equal(new DeviceOperation.ReadPaymentMode(), Read("6.2.9", Body("ReadDeviceConfigurationPaymentMode", "")));
        Assert.True(DuisOperations.Asks("4.6.1", Read("4.6.1", Body("RetrieveImportDailyReadLog", period))));
        Assert.False(DuisOperations.Asks("6.2.9", new DeviceOperation.ReadMeterPoint()));
        var backwards = "<sr:ReadLogPeriod><sr:StartDateTime>2014-03-11T00:00:00Z</sr:StartDateTime><sr:EndDateTime>2014-03-09T00:00:00Z</sr:EndDateTime></sr:ReadLogPeriod>";
        Assert.False(DuisOperations.TryRead("4.6.1", Body("RetrieveImportDailyReadLog", backwards), GatewayResponseCodes.Default, out _, out var refusal));
        Assert.Equal(GatewayResponseCodes.Default.InvalidRequest, refusal!.Code);
        Assert.Contains("ReadLogPeriod ends before it starts", refusal.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_device_log_read_is_translated_but_not_with_the_security_details_the_devices_do_not_keep()
    {
        Assert.Equal(new DeviceOperation.ReadDeviceLog(), Read("8.9", Body("ReadDeviceLog", "")));
        Assert.Equal(new DeviceOperation.ReadActivePower(), Read("4.16", Body("ReadActivePowerImport", "")));

        Assert.False(DuisOperations.TryRead("8.9", Body("ReadDeviceLog", "<sr:ReadSecurityDetails/>"), GatewayResponseCodes.Default, out _, out var refusal));
        Assert.Equal(DuisOperations.NotTranslated, refusal!.Code);
        Assert.Contains("ReadSecurityDetails", refusal.Reason, StringComparison.Ordinal);
        using var acb = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var gbcs = new GbcsReferenceAdapter(Meter, acb, new NoDeviceKeys());
        Assert.True(gbcs.Carries(new DeviceOperation.ReadDeviceLog(), DeviceType.CHF));
        Assert.True(gbcs.Carries(new DeviceOperation.ReadDeviceLog(), DeviceType.GSME));
        Assert.False(gbcs.Carries(new DeviceOperation.ReadDeviceLog(), DeviceType.GPF));
    }

    [Fact]
    public void The_gas_meters_reads_are_carried_to_its_gas_proxy_function_and_nothing_else_is()
    {
        using var acb = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var gbcs = new GbcsReferenceAdapter(Meter, acb, new NoDeviceKeys());
        using var earlySmart = new EarlySmartReferenceAdapter(Meter, new byte[32]);
        DeviceOperation[] reads = [new DeviceOperation.ReadImportRegisters(), new DeviceOperation.ReadMeterBalance(), new DeviceOperation.ReadProfile(Instant.FromUnixTimeSeconds(0), Instant.FromUnixTimeSeconds(86_400))];
        DeviceOperation[] others = [new DeviceOperation.SetSupply(SupplyState.Disabled), new DeviceOperation.TopUp("12345678901234567890"), new DeviceOperation.ReadFirmwareVersion(), new DeviceOperation.AddToDeviceLog(Meter, "010203040506", Duration.FromSeconds(90))];

        Assert.All(reads, read => Assert.True(gbcs.Carries(read, DeviceType.GPF)));
        Assert.All(others, other => Assert.False(gbcs.Carries(other, DeviceType.GPF)));
        // Early-smart meters have no gas proxy function.
        Assert.All(reads, read => Assert.False(earlySmart.Carries(read, DeviceType.GPF)));
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

    /// <summary>Field text for the property below: anything XML can hold, and values near the ones each field takes.</summary>
    private static readonly Gen<string> FieldText = Gen.OneOf(
        ArbMap.Default.GeneratorFor<string>().Select(s => new string((s ?? "").Where(XmlConvert.IsXmlChar).ToArray())),
        Gen.Elements("", " ", "0", "-1", "60", "3600", "86401", "99999999999999999999999", "Add", "Remove", "1e400", "NaN",
            "00-DB-12-34-56-78-90-A0", "00DB1234567890A0", "2026-11-28T09:00:00Z", "2026-13-40T99:99:99Z", "0102030405060708",
            "AQIDBA==", "not base64", "12345678901234567890", new string('9', 100_000)),
        Gen.Choose(0, 64).Select(n => string.Concat(Enumerable.Repeat("AB", n))));

    private static readonly string[] FieldNames =
        ["UTRN", "StartDateTime", "EndDateTime", "FirmwareImage", "FirmwareVersion", "FirmwareHash", "CurrentDateTime", "TolerancePeriod", "OtherDeviceID", "DeviceID", "RequestType", "JoinTimePeriod", "InstallCode"];

    [Property(MaxTest = 1000)]
    public Property Any_text_in_any_field_of_a_translated_srv_is_read_or_refused_and_what_is_read_encodes_for_every_device_that_carries_it() =>
        Prop.ForAll(Gen.Elements(DuisOperations.Variants.ToArray()).ToArbitrary(), Gen.ArrayOf(FieldText, FieldNames.Length).ToArbitrary(), Gen.Elements(true, false).ToArbitrary(), (srv, texts, prepayment) =>
        {
            XNamespace sr = DuisNamespaces.ServiceUserGateway;
            string Text(string name) => texts[Array.IndexOf(FieldNames, name)];
            var body = new XElement(sr + "Body",
                prepayment ? new XElement(sr + "Prepayment") : null,
                new XElement(sr + "ReadLogPeriod", new XElement(sr + "StartDateTime", Text("StartDateTime")), new XElement(sr + "EndDateTime", Text("EndDateTime"))),
                new XElement(sr + "AddDeviceToCHFWhitelist", new XElement(sr + "JoinTimePeriod", Text("JoinTimePeriod")), new XElement(sr + "InstallCode", Text("InstallCode"))),
                FieldNames.Except(["StartDateTime", "EndDateTime", "JoinTimePeriod", "InstallCode"]).Select(name => new XElement(sr + name, Text(name))));
            if (!DuisOperations.TryRead(srv, body, GatewayResponseCodes.Default, out var operation, out var refusal))
            {
                return refusal is { Code: var code } && code == GatewayResponseCodes.Default.InvalidRequest;
            }
            using var acb = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
            using var gbcs = new GbcsReferenceAdapter(Meter, acb, new OneDeviceKey());
            using var earlySmart = new EarlySmartReferenceAdapter(Meter, new byte[32]);
            foreach (var adapter in new ITranslationAdapter[] { gbcs, earlySmart })
            {
                foreach (var type in Enum.GetValues<DeviceType>().Where(t => adapter.Carries(operation!, t)))
                {
                    Assert.NotEmpty(adapter.ToDevice(operation!, Meter, 1));
                }
            }
            return true;
        });

    private sealed class OneDeviceKey : IDeviceKeyDirectory
    {
        private static readonly ECDiffieHellman Key = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);

        public ECDiffieHellmanPublicKey? FindKeyAgreementKey(Eui64 device) => Key.PublicKey;
    }

    private sealed class NoDeviceKeys : IDeviceKeyDirectory
    {
        public ECDiffieHellmanPublicKey? FindKeyAgreementKey(Eui64 device) => null;
    }
}
