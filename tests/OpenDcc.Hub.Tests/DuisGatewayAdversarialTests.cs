using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using NodaTime;
using NodaTime.Testing;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Security;
using static OpenDcc.Hub.Tests.TestHub;

namespace OpenDcc.Hub.Tests;

/// <summary>
/// Adversarial probes of the DUIS gateway over HTTP: bytes no parser should choke on, signatures by the wrong
/// certificate, and counters at their edges. None may get a 5xx; each refusal comes as a problem or a signed E-code.
/// </summary>
public sealed class DuisGatewayAdversarialTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private const string SendCommand = "/api/v1/serviceS";
    private const string Transform = "/api/v1/serviceT";
    private const string NonDevice = "/api/v1/serviceD";
    private static readonly XNamespace Sr = "http://www.dccinterface.co.uk/ServiceUserGateway";
    private TestHub hub = null!;

    public async Task InitializeAsync() => hub = await StartAsync();

    public async Task DisposeAsync() => await hub.DisposeAsync();

    /// <summary>Bodies that are not, or not quite, a DUIS request, by name (the signed one made in the test from a fresh request).</summary>
    private static readonly Dictionary<string, Func<string, byte[]>> Bodies = new()
    {
        ["empty"] = _ => [],
        ["a UTF-8 byte order mark only"] = _ => [0xEF, 0xBB, 0xBF],
        ["whitespace only"] = _ => " \r\n\t "u8.ToArray(),
        ["a NUL byte"] = signed => Splice(signed, "<sr:Header>", [0]),
        ["an invalid UTF-8 byte in the RequestID"] = signed => Splice(signed, ":00-DB-", [0xFF]),
        ["an overlong UTF-8 slash"] = signed => Splice(signed, ":00-DB-", [0xC0, 0xAF]),
        ["a UTF-8 encoded surrogate"] = signed => Splice(signed, ":00-DB-", [0xED, 0xA0, 0x80]),
        ["a truncated UTF-8 sequence at the end"] = signed => [.. Encoding.UTF8.GetBytes(signed), 0xE2, 0x82],
        ["EBCDIC's first bytes"] = _ => [0x4C, 0x6F, 0xA7, 0x94, 0x40, 0xA5, 0x85, 0x99],
        ["UTF-16 big-endian without a byte order mark"] = signed => Encoding.BigEndianUnicode.GetBytes(signed),
        ["UTF-32 with its byte order mark"] = signed => [.. Encoding.UTF32.GetPreamble(), .. Encoding.UTF32.GetBytes(signed)],
        ["a UTF-8 byte order mark then encoding UTF-16 declared"] = signed => [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(signed.Replace("encoding=\"UTF-8\"", "encoding=\"UTF-16\"", StringComparison.Ordinal))],
        ["encoding ISO-8859-1 declared"] = signed => Encoding.UTF8.GetBytes(signed.Replace("encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"", StringComparison.Ordinal)),
        ["encoding utf8 declared"] = signed => Encoding.UTF8.GetBytes(signed.Replace("encoding=\"UTF-8\"", "encoding=\"utf8\"", StringComparison.Ordinal)),
        ["encoding declared in single quotes as UTF-7"] = signed => Encoding.UTF8.GetBytes(signed.Replace("encoding=\"UTF-8\"", "encoding='UTF-7'", StringComparison.Ordinal)),
        ["an unknown encoding declared"] = signed => Encoding.UTF8.GetBytes(signed.Replace("encoding=\"UTF-8\"", "encoding=\"x-no-such\"", StringComparison.Ordinal)),
        ["XML 1.1 declared"] = signed => Encoding.UTF8.GetBytes(signed.Replace("version=\"1.0\"", "version=\"1.1\"", StringComparison.Ordinal)),
        ["whitespace before the XML declaration"] = signed => Encoding.UTF8.GetBytes(" " + signed),
        ["an XML declaration that never ends"] = _ => Encoding.UTF8.GetBytes("<?xml version=\"1.0\" " + new string('a', 20_000)),
        ["an external entity"] = _ => Encoding.UTF8.GetBytes("<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>"),
        ["an external DTD"] = _ => Encoding.UTF8.GetBytes("<?xml version=\"1.0\"?><!DOCTYPE r SYSTEM \"http://127.0.0.1:1/x.dtd\"><r/>"),
        ["nested entities (billion laughs)"] = _ => Encoding.UTF8.GetBytes("<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]><r>&c;</r>"),
        ["an undefined entity"] = signed => Encoding.UTF8.GetBytes(signed.Replace(":00-DB-", ":&x;00-DB-", StringComparison.Ordinal)),
        ["a reference to character 0"] = signed => Encoding.UTF8.GetBytes(signed.Replace(":00-DB-", ":&#0;00-DB-", StringComparison.Ordinal)),
        ["a reference to a lone surrogate"] = signed => Encoding.UTF8.GetBytes(signed.Replace(":00-DB-", ":&#xD800;00-DB-", StringComparison.Ordinal)),
        ["a reference to U+FFFE"] = signed => Encoding.UTF8.GetBytes(signed.Replace(":00-DB-", ":&#xFFFE;00-DB-", StringComparison.Ordinal)),
        ["a reference beyond U+10FFFF"] = signed => Encoding.UTF8.GetBytes(signed.Replace(":00-DB-", ":&#x110000;00-DB-", StringComparison.Ordinal)),
        ["a supplementary character in the RequestID"] = signed => Encoding.UTF8.GetBytes(signed.Replace(":00-DB-", ":\U0001F60000-DB-", StringComparison.Ordinal)),
        ["full-width digits in the counter"] = signed => Encoding.UTF8.GetBytes(Regex.Replace(signed, @":(\d+)</sr:RequestID>", ":\uFF11\uFF10\uFF10\uFF10</sr:RequestID>")),
        ["Arabic-Indic digits in the command variant"] = signed => Encoding.UTF8.GetBytes(signed.Replace("<sr:CommandVariant>1<", "<sr:CommandVariant>\u0661<", StringComparison.Ordinal)),
        ["an undeclared prefix"] = signed => Encoding.UTF8.GetBytes(signed.Replace("<sr:Header>", "<x:Header>", StringComparison.Ordinal).Replace("</sr:Header>", "</x:Header>", StringComparison.Ordinal)),
        ["xmlns bound to the XML namespace"] = signed => Encoding.UTF8.GetBytes(signed.Replace("<sr:Header>", "<sr:Header xmlns:x=\"http://www.w3.org/XML/1998/namespace\">", StringComparison.Ordinal)),
        ["an element in the xml prefix"] = signed => Encoding.UTF8.GetBytes(signed.Replace("<sr:Body>", "<sr:Body><xml:a/>", StringComparison.Ordinal)),
        ["a root with no namespace"] = _ => Encoding.UTF8.GetBytes("<Request><Header/><Body/></Request>"),
        ["a bare root"] = _ => "<a/>"u8.ToArray(),
        ["text only"] = _ => "hello"u8.ToArray(),
        ["two roots"] = signed => Encoding.UTF8.GetBytes(signed + "<a/>"),
        ["text after the root"] = signed => Encoding.UTF8.GetBytes(signed + "x"),
        ["an unclosed comment"] = signed => Encoding.UTF8.GetBytes(signed.Replace("<sr:Header>", "<sr:Header><!--", StringComparison.Ordinal)),
        ["an unclosed CDATA section"] = signed => Encoding.UTF8.GetBytes(signed.Replace("<sr:Header>", "<sr:Header><![CDATA[", StringComparison.Ordinal)),
        ["an unclosed processing instruction"] = signed => Encoding.UTF8.GetBytes(signed.Replace("<sr:Header>", "<sr:Header><?x ", StringComparison.Ordinal)),
        ["an unclosed quoted attribute value"] = signed => Encoding.UTF8.GetBytes(signed.Replace("<sr:Header>", "<sr:Header a=\"", StringComparison.Ordinal)),
        ["a '>' in a quoted attribute value"] = signed => Encoding.UTF8.GetBytes(signed.Replace("<sr:Header>", "<sr:Header a=\"><sr:Header>\">", StringComparison.Ordinal)),
        ["a processing instruction named xml inside"] = signed => Encoding.UTF8.GetBytes(signed.Replace("<sr:Header>", "<sr:Header><?xml version=\"1.0\"?>", StringComparison.Ordinal)),
        ["a name 100,000 characters long"] = signed => Encoding.UTF8.GetBytes(signed.Replace("<sr:Body>", $"<sr:Body><sr:{new string('n', 100_000)}/>", StringComparison.Ordinal)),
        ["an attribute value 1,000,000 characters long"] = signed => Encoding.UTF8.GetBytes(signed.Replace("<sr:Body>", $"<sr:Body a=\"{new string('v', 1_000_000)}\">", StringComparison.Ordinal)),
        ["64 levels deep"] = signed => Encoding.UTF8.GetBytes(signed.Replace("<sr:Body>", "<sr:Body>" + string.Concat(Enumerable.Repeat("<a>", 62)) + string.Concat(Enumerable.Repeat("</a>", 62)), StringComparison.Ordinal)),
        ["65 levels deep"] = signed => Encoding.UTF8.GetBytes(signed.Replace("<sr:Body>", "<sr:Body>" + string.Concat(Enumerable.Repeat("<a>", 63)) + string.Concat(Enumerable.Repeat("</a>", 63)), StringComparison.Ordinal)),
        ["20,001 elements"] = signed => Encoding.UTF8.GetBytes(signed.Replace("<sr:Body>", "<sr:Body>" + string.Concat(Enumerable.Repeat("<a/>", 20_001)), StringComparison.Ordinal)),
        ["a thousand namespace declarations"] = signed => Encoding.UTF8.GetBytes(signed.Replace("<sr:Header>", "<sr:Header" + string.Concat(Enumerable.Range(0, 1_000).Select(i => $" xmlns:p{i}=\"urn:{i}\"")) + ">", StringComparison.Ordinal)),
        ["10 MB of text in the body"] = signed => Encoding.UTF8.GetBytes(signed.Replace("<sr:Body>", $"<sr:Body><sr:X>{new string('x', 10_000_000)}</sr:X>", StringComparison.Ordinal)),
        ["a million comments' worth of text"] = signed => Encoding.UTF8.GetBytes(signed.Replace("<sr:Header>", "<sr:Header><!--" + new string('-', 1) + new string('c', 5_000_000) + "-->", StringComparison.Ordinal)),
        ["a signature whose value is not base64"] = signed => Encoding.UTF8.GetBytes(Regex.Replace(signed, "<ds:SignatureValue>[^<]*<", "<ds:SignatureValue>!!!<")),
        ["a signature value 10,000 bytes long"] = signed => Encoding.UTF8.GetBytes(Regex.Replace(signed, "<ds:SignatureValue>[^<]*<", $"<ds:SignatureValue>{Convert.ToBase64String(new byte[10_000])}<")),
        ["a digest value 1 MB long"] = signed => Encoding.UTF8.GetBytes(Regex.Replace(signed, "<ds:DigestValue>[^<]*<", $"<ds:DigestValue>{Convert.ToBase64String(new byte[1_000_000])}<")),
        ["an issuer name that is no distinguished name"] = signed => Encoding.UTF8.GetBytes(Regex.Replace(signed, "<ds:X509IssuerName>[^<]*<", "<ds:X509IssuerName>CN=\"<")),
        ["a serial number of 2,000 digits"] = signed => Encoding.UTF8.GetBytes(Regex.Replace(signed, "<ds:X509SerialNumber>[^<]*<", $"<ds:X509SerialNumber>{new string('9', 2_000)}<")),
        ["a counter past 2^64"] = signed => Encoding.UTF8.GetBytes(Regex.Replace(signed, @":(\d+)</sr:RequestID>", ":18446744073709551616</sr:RequestID>")),
        ["an EUI-64 with too many digits"] = signed => Encoding.UTF8.GetBytes(signed.Replace(":00-DB-", ":00-00-DB-", StringComparison.Ordinal)),
        ["a command variant of 2^31"] = signed => Encoding.UTF8.GetBytes(signed.Replace("<sr:CommandVariant>1<", "<sr:CommandVariant>2147483648<", StringComparison.Ordinal)),
        ["FirstInSequence of 1"] = signed => Encoding.UTF8.GetBytes(signed.Replace("</sr:ServiceReferenceVariant>", "</sr:ServiceReferenceVariant><sr:FirstInSequence>1</sr:FirstInSequence>", StringComparison.Ordinal)),
        ["a very long service reference variant"] = signed => Encoding.UTF8.GetBytes(signed.Replace("<sr:ServiceReferenceVariant>4.1.1<", $"<sr:ServiceReferenceVariant>{new string('4', 1_000_000)}<", StringComparison.Ordinal)),
    };

    public static TheoryData<string> BodyNames => [.. Bodies.Keys];

    [Theory]
    [MemberData(nameof(BodyNames))]
    public async Task No_body_gets_a_server_error(string name)
    {
        var signed = Encoding.UTF8.GetString(hub.Sign(Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1"), Supplier));
        var (status, contentType, body) = await hub.PostAsync(SendCommand, Bodies[name](signed));

        output.WriteLine($"{name}: {(int)status} {(status == HttpStatusCode.OK ? XDocument.Parse(body).Descendants(Sr + "ResponseCode").Single().Value : body)}");
        Assert.True((int)status < 500, $"{name}: {(int)status} {contentType} {body[..Math.Min(body.Length, 500)]}");
        Assert.True(status is HttpStatusCode.OK or HttpStatusCode.BadRequest, $"{name}: {(int)status}");
        if (status == HttpStatusCode.OK)
        {
            // A signed answer: the request read, so refused with a DUIS code (or, for what canonicalization erases, accepted).
            Assert.Matches("^(E|I)", await hub.CheckSignedResponseAsync(body));
        }
        else
        {
            Assert.Equal("application/problem+json", contentType);
        }
    }

    /// <summary>Authenticated requests whose bodies hold odd values: (endpoint, target is the DSP, command variant, SRV, body).</summary>
    public static TheoryData<string, bool, int, string, string> OddBodies => new()
    {
        { NonDevice, true, 8, "8.2", $"<sr:DeviceID>{new string('0', 100_000)}</sr:DeviceID>" },
        { NonDevice, true, 8, "8.2", "<sr:DeviceID>FF-FF-FF-FF-FF-FF-FF-FF</sr:DeviceID>" },
        { NonDevice, true, 8, "8.2", "<sr:UPRN>99999999999999999999</sr:UPRN>" },
        { NonDevice, true, 8, "8.2", "<sr:UPRN>-1</sr:UPRN>" },
        { NonDevice, true, 8, "8.2", "<sr:MPxN>99999999999999999999999</sr:MPxN>" },
        { NonDevice, true, 8, "8.2", "<sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID><sr:UPRN>1</sr:UPRN>" },
        { NonDevice, true, 8, "12.2", "<sr:DeviceID>00-DB-12-34-56-78-90-C1</sr:DeviceID><sr:DeviceManufacturer>AB01</sr:DeviceManufacturer><sr:DeviceModel>020B</sr:DeviceModel><sr:DeviceType>ESME, GSME</sr:DeviceType>" },
        { NonDevice, true, 8, "12.2", "<sr:DeviceID>00-DB-12-34-56-78-90-C1</sr:DeviceID><sr:DeviceManufacturer>AB01</sr:DeviceManufacturer><sr:DeviceModel>020B</sr:DeviceModel><sr:DeviceType>0</sr:DeviceType>" },
        { NonDevice, true, 8, "12.2", $"<sr:DeviceID>00-DB-12-34-56-78-90-C1</sr:DeviceID><sr:DeviceManufacturer>{new string('m', 10_000)}</sr:DeviceManufacturer><sr:DeviceModel>020B</sr:DeviceModel><sr:DeviceType>ESME</sr:DeviceType>" },
        { NonDevice, true, 8, "11.1", "<sr:FirmwareImage>!!not base64!!</sr:FirmwareImage><sr:FirmwareVersion>2.0.0</sr:FirmwareVersion><sr:DeviceIDList>00-DB-12-34-56-78-90-A0</sr:DeviceIDList>" },
        { NonDevice, true, 8, "11.1", "<sr:FirmwareImage>AAAA</sr:FirmwareImage><sr:FirmwareVersion>2.0.0</sr:FirmwareVersion><sr:DeviceIDList>,,,</sr:DeviceIDList>" },
        { NonDevice, true, 8, "11.1", "<sr:FirmwareImage>AAAA</sr:FirmwareImage><sr:FirmwareVersion>2.0.0</sr:FirmwareVersion><sr:DeviceIDList>00-DB-12-34-56-78-90-A0,00-DB-12-34-56-78-90-A0</sr:DeviceIDList>" },
        { NonDevice, true, 8, "8.13", "<sr:OriginalRequestID>90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1</sr:OriginalRequestID><sr:DeviceGBCSResponse>AAAA</sr:DeviceGBCSResponse>" },
        { NonDevice, true, 8, "8.13", "<sr:OriginalRequestID>x</sr:OriginalRequestID><sr:DeviceGBCSResponse>%%%</sr:DeviceGBCSResponse>" },
        { SendCommand, false, 1, "4.8.1", "<sr:ReadLogPeriod><sr:StartDateTime>-9998-01-01T00:00:00Z</sr:StartDateTime><sr:EndDateTime>9999-12-31T23:59:59.9999999Z</sr:EndDateTime></sr:ReadLogPeriod>" },
        { SendCommand, false, 1, "4.8.1", "<sr:ReadLogPeriod><sr:StartDateTime>0001-01-01T00:00:00+14:00</sr:StartDateTime><sr:EndDateTime>9999-12-31T23:59:59-14:00</sr:EndDateTime></sr:ReadLogPeriod>" },
        { SendCommand, false, 1, "4.8.1", "<sr:ReadLogPeriod><sr:StartDateTime>2020-01-01</sr:StartDateTime><sr:EndDateTime>now</sr:EndDateTime></sr:ReadLogPeriod>" },
        { SendCommand, false, 1, "2.2", "<sr:UTRN>\u0661\u0662345678901234567890</sr:UTRN>" },
        { SendCommand, false, 1, "2.2", "<sr:UTRN>12345678901234567890</sr:UTRN><sr:UTRN>12345678901234567891</sr:UTRN>" },
        { SendCommand, false, 1, "4.1.1", "<sr:ExecutionDateTime>9999-12-31T23:59:59Z</sr:ExecutionDateTime>" },
        { SendCommand, false, 1, "4.1.1", "<other:X xmlns:other=\"urn:x\"/>" },
        { SendCommand, false, 1, "8.11", "<sr:DeviceID>00-DB-12-34-56-78-90-C2</sr:DeviceID><sr:RequestType>Add</sr:RequestType><sr:AddDeviceToCHFWhitelist><sr:InstallCode>ABC</sr:InstallCode><sr:JoinTimePeriod>99999999999</sr:JoinTimePeriod></sr:AddDeviceToCHFWhitelist>" },
        { Transform, false, 4, "8.1.1", "<sr:CurrentDateTime>-9998-01-01T00:00:00Z</sr:CurrentDateTime><sr:TolerancePeriod>86400</sr:TolerancePeriod>" },
    };

    [Theory]
    [MemberData(nameof(OddBodies))]
    public async Task No_authenticated_body_gets_a_server_error(string path, bool toDsp, int commandVariant, string srv, string bodyInner)
    {
        var signed = hub.Sign(Request(Supplier, toDsp ? Dsp : Meter, hub.NextCounter(), commandVariant, srv, bodyInner), Supplier);
        var (status, contentType, body) = await hub.PostAsync(path, signed);
        output.WriteLine($"{srv} {Core.Excerpt.Of(bodyInner)}: {(int)status} {(status == HttpStatusCode.OK ? XDocument.Parse(body).Descendants(Sr + "ResponseCode").Single().Value : body)}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Matches("^(E|I)", await hub.CheckSignedResponseAsync(body));
    }

    [Fact]
    public async Task The_same_signed_request_sent_many_times_at_once_is_taken_once()
    {
        var signed = hub.Sign(Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1"), Supplier);
        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ => await hub.CheckSignedResponseAsync((await hub.PostAsync(SendCommand, signed)).Body)));
        Assert.Equal(1, answers.Count(a => a == "I99"));
        Assert.Equal(19, answers.Count(a => a == "E43"));
    }

    [Fact]
    public async Task A_signed_request_altered_only_where_canonicalization_does_not_look_is_accepted_once_as_signed()
    {
        var counter = hub.NextCounter();
        var signed = Encoding.UTF8.GetString(hub.Sign(Request(Supplier, Meter, counter, 1, "4.1.1"), Supplier));
        // A comment splitting the counter, the RequestID's first digit as a character reference, a CDATA section,
        // whitespace between elements and a byte order mark: none of it is signed, and none of it changes what is read.
        var altered = "\uFEFF" + signed
            .Replace($":{counter}<", $":{counter.ToString(System.Globalization.CultureInfo.InvariantCulture)[..2]}<!-- 0 -->{counter.ToString(System.Globalization.CultureInfo.InvariantCulture)[2..]}<", StringComparison.Ordinal)
            .Replace("<sr:RequestID>9", "<sr:RequestID>&#x39;", StringComparison.Ordinal)
            .Replace("<sr:ServiceReferenceVariant>4.1.1<", "<sr:ServiceReferenceVariant><![CDATA[4.1.1]]><", StringComparison.Ordinal)
            .Replace("><sr:", ">\n  <sr:", StringComparison.Ordinal);

        var (status, _, body) = await hub.PostAsync(SendCommand, Encoding.UTF8.GetBytes(altered));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("I99", await hub.CheckSignedResponseAsync(body));
        Assert.Equal($"{Supplier}:{Meter}:{counter}", XDocument.Parse(body).Descendants(Sr + "RequestID").Single().Value);

        // The original, sent after it, is the same request: a replay.
        (status, _, body) = await hub.PostAsync(SendCommand, Encoding.UTF8.GetBytes(signed));
        Assert.Equal("E43", await hub.CheckSignedResponseAsync(body));
    }

    [Fact]
    public async Task A_request_signed_with_the_users_digital_signing_key_not_its_xml_sign_key_is_an_authentication_failure()
    {
        var signed = DuisSignature.Sign(Encoding.UTF8.GetBytes(Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1")), hub.DigitalSigningKeyOf(Supplier));
        var (status, _, body) = await hub.PostAsync(SendCommand, signed);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("E42", await hub.CheckSignedResponseAsync(body));
        Assert.Contains(await OutcomesAsync(), o => o.StartsWith("E42 AuthenticationFailure: WrongCertificateRole", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_request_signed_with_an_expired_or_not_yet_valid_certificate_of_the_user_is_an_authentication_failure()
    {
        var now = SystemClock.Instance.GetCurrentInstant();
        using var ca = CertificateAuthority.Create("Old OCA", new FakeClock(now - Duration.FromDays(1000)), Duration.FromDays(3650));
        using var expired = ca.Issue(Supplier, RemotePartyRole.XmlSign, "Test Supplier", new FakeClock(now - Duration.FromDays(900)), Duration.FromDays(30));
        using var future = ca.Issue(Supplier, RemotePartyRole.XmlSign, "Test Supplier", new FakeClock(now + Duration.FromDays(30)), Duration.FromDays(30));
        foreach (var certificate in new[] { expired, future })
        {
            await hub.Store.Parties.AddCertificateAsync(OrganisationCertificate.FromX509(certificate));
            var counter = hub.NextCounter();
            var (status, _, body) = await hub.PostAsync(SendCommand, DuisSignature.Sign(Encoding.UTF8.GetBytes(Request(Supplier, Meter, counter, 1, "4.1.1")), certificate));
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("E42", await hub.CheckSignedResponseAsync(body));
        }
        Assert.Equal(2, (await OutcomesAsync()).Count(o => o.StartsWith("E42 AuthenticationFailure: CertificateExpired", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_signature_naming_another_users_certificate_is_an_authentication_failure()
    {
        // Signed with the supplier's key, KeyInfo naming the network operator's certificate.
        var signed = Encoding.UTF8.GetString(hub.Sign(Request(NetworkOperator, Meter, hub.NextCounter(), 1, "4.1.1"), Supplier));
        var other = hub.KeyOf(NetworkOperator);
        var renamed = Regex.Replace(signed, "<ds:X509SerialNumber>[^<]*<", $"<ds:X509SerialNumber>{OrganisationCertificate.FromX509(other).SerialNumber}<");
        Assert.NotEqual(signed, renamed);
        var (_, _, body) = await hub.PostAsync(SendCommand, Encoding.UTF8.GetBytes(renamed));
        Assert.Equal("E42", await hub.CheckSignedResponseAsync(body));
        Assert.Contains(await OutcomesAsync(), o => o.StartsWith("E42 AuthenticationFailure: BadSignature", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Issuer_and_serial_spelled_otherwise_name_the_same_certificate()
    {
        var certificate = OrganisationCertificate.FromX509(hub.KeyOf(Supplier));
        var signed = Encoding.UTF8.GetString(hub.Sign(Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1"), Supplier));
        // .NET's spelling of the issuer (with ", ") and the serial with leading zeros and surrounding whitespace.
        var respelled = Regex.Replace(signed, "<ds:X509IssuerName>[^<]*<", $"<ds:X509IssuerName>{System.Security.SecurityElement.Escape(certificate.IssuerName)}<");
        respelled = Regex.Replace(respelled, "<ds:X509SerialNumber>[^<]*<", $"<ds:X509SerialNumber> 000{certificate.SerialNumber}\n<");
        var (_, _, body) = await hub.PostAsync(SendCommand, Encoding.UTF8.GetBytes(respelled));
        Assert.Equal("I99", await hub.CheckSignedResponseAsync(body));

        // Another issuer's spelling: no such certificate.
        var otherIssuer = Regex.Replace(Encoding.UTF8.GetString(hub.Sign(Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1"), Supplier)), "<ds:X509IssuerName>[^<]*<", "<ds:X509IssuerName>CN=test oca,OU=07<");
        (_, _, body) = await hub.PostAsync(SendCommand, Encoding.UTF8.GetBytes(otherIssuer));
        Assert.Equal("E42", await hub.CheckSignedResponseAsync(body));
        Assert.Contains(await OutcomesAsync(), o => o.StartsWith("E42 AuthenticationFailure: UnknownCertificate", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Counter_0_is_taken_once_from_a_user_with_no_counter_yet()
    {
        Assert.Equal("E2", (await hub.SendAsync(SendCommand, Request(NetworkOperator, Meter, 0, 1, "4.1.4"))).Code);
        Assert.Equal("E43", (await hub.SendAsync(SendCommand, Request(NetworkOperator, Meter, 0, 1, "4.1.1"))).Code);
    }

    [Fact]
    public async Task Counter_at_the_64_bit_maximum_is_taken_and_then_nothing_else_is()
    {
        Assert.Equal("I99", (await hub.SendAsync(SendCommand, Request(Supplier, Meter, ulong.MaxValue, 1, "4.1.1"))).Code);
        Assert.Equal("E43", (await hub.SendAsync(SendCommand, Request(Supplier, Meter, ulong.MaxValue, 1, "4.1.1"))).Code);
        Assert.Equal("E43", (await hub.SendAsync(NonDevice, Request(Supplier, Dsp, ulong.MaxValue, 8, "8.2", $"<sr:DeviceID>{Meter}</sr:DeviceID>"))).Code);
    }

    [Fact]
    public async Task The_same_signed_request_sent_to_each_endpoint_is_taken_once()
    {
        var signed = hub.Sign(Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1"), Supplier);
        var codes = new List<string>();
        foreach (var path in new[] { NonDevice, Transform, SendCommand })
        {
            var (status, _, body) = await hub.PostAsync(path, signed);
            Assert.Equal(HttpStatusCode.OK, status);
            codes.Add(await hub.CheckSignedResponseAsync(body));
        }
        // The first, to the wrong endpoint, is answered E13 and spends the counter: the rest are replays.
        Assert.Equal(["E13", "E43", "E43"], codes);
    }

    [Fact]
    public async Task The_same_counter_is_a_replay_to_another_device_another_srv_or_another_endpoint()
    {
        var counter = hub.NextCounter();
        Assert.Equal("I99", (await hub.SendAsync(SendCommand, Request(Supplier, Meter, counter, 1, "4.1.1"))).Code);
        Assert.Equal("E43", (await hub.SendAsync(SendCommand, Request(Supplier, GasMeter, counter, 1, "4.1.1"))).Code);
        Assert.Equal("E43", (await hub.SendAsync(SendCommand, Request(Supplier, Meter, counter, 1, "7.4"))).Code);
        Assert.Equal("E43", (await hub.SendAsync(NonDevice, Request(Supplier, Dsp, counter, 8, "8.2", $"<sr:DeviceID>{Meter}</sr:DeviceID>"))).Code);
    }

    [Fact]
    public async Task A_transforms_counter_is_taken_again_only_by_its_own_signed_pre_command()
    {
        var counter = hub.NextCounter();
        var preCommand = await hub.TransformAsync(Meter, "7.2", counter: counter);
        var signedPreCommand = hub.SignPreCommand(preCommand);

        // Not by another command variant, device or SRV under it.
        Assert.Equal("E43", (await hub.SendAsync(SendCommand, Request(Supplier, Meter, counter, 1, "7.2"))).Code);
        Assert.Equal("E43", (await hub.SendAsync(SendCommand, Encoding.UTF8.GetString(DuisRequestWriter.WriteSignedPreCommand(new RequestId(Supplier, GasMeter, counter), Core.Catalogue.ServiceCatalogue.Duis["7.2"], signedPreCommand)))).Code);
        Assert.Equal("E43", (await hub.SendAsync(SendCommand, Encoding.UTF8.GetString(DuisRequestWriter.WriteSignedPreCommand(new RequestId(Supplier, Meter, counter), Core.Catalogue.ServiceCatalogue.Duis["7.1"], signedPreCommand)))).Code);

        // Its own, once.
        var own = Encoding.UTF8.GetString(DuisRequestWriter.WriteSignedPreCommand(new RequestId(Supplier, Meter, counter), Core.Catalogue.ServiceCatalogue.Duis["7.2"], signedPreCommand));
        Assert.Equal("I99", (await hub.SendAsync(SendCommand, own)).Code);
        Assert.Equal("E43", (await hub.SendAsync(SendCommand, own)).Code);
    }

    [Fact]
    public async Task An_unsigned_request_naming_another_users_request_id_gets_a_dsp_signed_answer_naming_it()
    {
        // Anyone who reaches the endpoint can have the DSP sign an E42 (or E41) response for any user's RequestID: the
        // response names a request its originator never sent, or one it did (DUIS answers an unauthenticated request
        // this way; the user's system is to match responses to requests it sent, and their times).
        var victims = new RequestId(Supplier, Meter, 424242);
        var unsigned = Request(Supplier, Meter, victims.Counter, 1, "4.1.1");
        var (status, _, body) = await hub.PostAsync(SendCommand, Encoding.UTF8.GetBytes(unsigned));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("E42", await hub.CheckSignedResponseAsync(body));
        Assert.Equal(victims.ToString(), XDocument.Parse(body).Descendants(Sr + "RequestID").Single().Value);
    }

    private async Task<List<string>> OutcomesAsync()
    {
        var entries = new List<string>();
        await foreach (var entry in hub.Store.MessageLog.ReadAsync())
        {
            if (entry.Record.Direction == MessageDirection.Inbound)
            {
                entries.Add(entry.Record.Outcome);
            }
        }
        return entries;
    }

    private static byte[] Splice(string text, string before, byte[] inserted)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var at = text.IndexOf(before, StringComparison.Ordinal);
        Assert.True(at >= 0);
        var offset = Encoding.UTF8.GetByteCount(text.AsSpan(0, at));
        return [.. bytes[..offset], .. inserted, .. bytes[offset..]];
    }
}
