using System.Text.RegularExpressions;
using System.Xml.Linq;
using OpenDcc.Core.Security;
using OpenDcc.Interop.Tests.Tooling;
using Xunit.Abstractions;

namespace OpenDcc.Interop.Tests;

[Collection(DccToolingCollection.Name)]
public sealed partial class SigningToolTests(SignedRtds rtds, ITestOutputHelper output)
{
    private static readonly XNamespace XmlDsig = "http://www.w3.org/2000/09/xmldsig#";

    private RtdsTemplate ReadInstantaneousImportRegisters =>
        rtds.Tooling.Templates.Single(t => t.FileName == "ECS17b_4.1.1_SINGLE_SUCCESS_REQUEST_DUIS.XML");

    [Fact]
    public void Every_template_is_signed_except_those_whose_originator_has_no_ZAZ1_key()
    {
        output.WriteLine(rtds.Summary());
        Assert.Equal(rtds.Tooling.Templates.Count, rtds.All.Count);
        Assert.Equal(295, rtds.Signed.Count());
        Assert.All(rtds.Refused, r => Assert.Equal(SigningToolExit.MissingKeyMaterial, r.Signing.ExitCode));
        // The two ECS47e 7.16 Limit APC Level templates come from the Load Controller, which has no XmlSign key in the tool.
        Assert.All(rtds.Refused, r => Assert.Equal("90-B3-D5-1F-30-01-00-08", r.Template.RequestId.Originator.ToString()));
    }

    [Fact]
    public async Task Every_signed_template_passes_the_tools_own_validation()
    {
        var signed = rtds.Signed.ToList();
        var results = await rtds.Tooling.ValidateManyAsync(signed.Select(s => s.Xml));
        var failures = signed.Zip(results).Where(p => !p.Second.Succeeded).Select(p => $"{p.First.Template.FileName}: {p.Second}").ToList();
        Assert.Empty(failures);
        Assert.All(results, r => Assert.Empty(XDocument.Parse(r.Output).Descendants(XmlDsig + "Signature")));
    }

    [Fact]
    public void Signing_gives_each_request_a_fresh_counter_and_keeps_originator_and_target()
    {
        var signed = rtds.Signed.Select(s => (s.Template, Signed: RtdsTemplate.Parse(s.Template.FileName, s.Xml))).ToList();
        Assert.All(signed, s =>
        {
            Assert.Equal(s.Template.RequestId.Originator, s.Signed.RequestId.Originator);
            Assert.Equal(s.Template.RequestId.Target, s.Signed.RequestId.Target);
            Assert.True(s.Signed.RequestId.Counter > 1_700_000_000_000, $"{s.Signed}: counter is not time-based");
        });
        Assert.Equal(signed.Count, signed.Select(s => s.Signed.RequestId.Counter).Distinct().Count());
    }

    [Fact]
    public async Task Preserving_the_counter_keeps_the_templates_RequestID()
    {
        var template = ReadInstantaneousImportRegisters;
        var signed = RtdsTemplate.Parse(template.FileName, await rtds.Tooling.SignAsync(template.Xml, preserveCounter: true));
        Assert.Equal(template.RequestId, signed.RequestId);
    }

    [Fact]
    public async Task The_long_running_host_signs_and_validates_as_the_tools_command_line_does()
    {
        var xml = ReadInstantaneousImportRegisters.Xml;
        var byHost = await rtds.Tooling.TrySignAsync(xml, preserveCounter: true);
        var byCommandLine = await rtds.Tooling.RunCommandLineAsync(SigningTool.Sign, xml, ["--preserveCounter"]);

        Assert.Equal(SigningToolExit.Success, byCommandLine.ExitCode);
        Assert.Equal(byCommandLine.ExitCode, byHost.ExitCode);
        Assert.Equal(byCommandLine.Error, byHost.Error);
        // ECDSA signatures are randomised; everything else, digest included, is the same bytes.
        Assert.Equal(WithoutSignatureValue(byCommandLine.Output), WithoutSignatureValue(byHost.Output));

        var hostSignatureOnCommandLine = await rtds.Tooling.RunCommandLineAsync(SigningTool.Validate, byHost.Output, []);
        var commandLineSignatureOnHost = await rtds.Tooling.ValidateAsync(byCommandLine.Output);
        Assert.Equal(SigningToolExit.Success, hostSignatureOnCommandLine.ExitCode);
        Assert.Equal(hostSignatureOnCommandLine.Output, commandLineSignatureOnHost.Output);
    }

    [Theory]
    [InlineData("this is not XML", SigningToolExit.ApplicationError)]
    [InlineData("<sr:Response xmlns:sr=\"http://www.dccinterface.co.uk/ServiceUserGateway\"><garbage/></sr:Response>", SigningToolExit.ValidationFailed)]
    public async Task Validation_rejects_a_garbage_document(string garbage, SigningToolExit expected)
    {
        var result = await rtds.Tooling.ValidateAsync(garbage);
        output.WriteLine(result.ToString());
        Assert.Equal(expected, result.ExitCode);
        Assert.Empty(result.Output);
    }

    [Fact]
    public async Task Validation_rejects_a_signed_request_changed_after_signing()
    {
        var signed = rtds.Signed.First(s => s.Template.FileName == ReadInstantaneousImportRegisters.FileName).Xml;
        var tampered = signed.Replace("<sr:CommandVariant>1<", "<sr:CommandVariant>3<", StringComparison.Ordinal);
        Assert.NotEqual(signed, tampered);

        var result = await rtds.Tooling.ValidateAsync(tampered);
        Assert.Equal(SigningToolExit.ValidationFailed, result.ExitCode);
    }

    [Fact]
    public async Task Signing_for_an_originator_without_a_key_throws_the_tools_refusal()
    {
        var template = rtds.Refused.First().Template;
        var refusal = await Assert.ThrowsAsync<SigningToolException>(() => rtds.Tooling.SignAsync(template.Xml, preserveCounter: false));
        Assert.Equal(SigningToolExit.MissingKeyMaterial, refusal.Result.ExitCode);
        Assert.Contains(template.RequestId.Originator.ToString(), refusal.Result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Supplier_requests_name_the_ZAZ1_supplier_XmlSign_certificate()
    {
        var signature = XDocument.Parse(rtds.Signed.First(s => s.Template.FileName == ReadInstantaneousImportRegisters.FileName).Xml)
            .Descendants(XmlDsig + "X509IssuerSerial").Single();
        using var x509 = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(rtds.Tooling.Identities.Supplier.CertificatePath));
        var supplier = OrganisationCertificate.FromX509(x509);

        Assert.Equal(supplier.SerialNumber, signature.Element(XmlDsig + "X509SerialNumber")?.Value);
        Assert.Equal("CN=Z1,OU=07", signature.Element(XmlDsig + "X509IssuerName")?.Value);
    }

    private static string WithoutSignatureValue(string xml) => SignatureValue().Replace(xml, "<ds:SignatureValue/>");

    [GeneratedRegex("<ds:SignatureValue>[^<]*</ds:SignatureValue>")]
    private static partial Regex SignatureValue();
}
