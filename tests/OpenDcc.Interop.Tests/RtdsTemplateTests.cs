using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Identifiers;
using OpenDcc.Interop.Tests.Tooling;
using Xunit.Abstractions;

namespace OpenDcc.Interop.Tests;

[Collection(DccToolingCollection.Name)]
public sealed class RtdsTemplateTests(SignedRtds rtds, ITestOutputHelper output)
{
    private static readonly Eui64 Dsp = Eui64.Parse("90-B3-D5-1F-30-00-00-02");

    [Fact]
    public void All_297_RTDS_templates_load_with_their_header_and_body()
    {
        var templates = rtds.Tooling.Templates;
        Assert.Equal(297, templates.Count);
        Assert.Equal(templates.Count, templates.Select(t => t.FileName).Distinct(StringComparer.Ordinal).Count());
        Assert.All(templates, t => Assert.True(CommandVariant.TryGet(t.CommandVariant, out _), $"{t}: no command variant {t.CommandVariant}"));
    }

    [Fact]
    public void Every_template_SRV_is_in_the_catalogue_with_its_service_reference_and_body_element()
    {
        var mismatches = rtds.Tooling.Templates
            .Where(t => !ServiceCatalogue.Duis.TryGet(t.ServiceReferenceVariant, out var v) || v.ServiceReference != t.ServiceReference || v.BodyElement != t.BodyElement)
            .Select(t => $"{t}: body {t.BodyElement}")
            .ToList();
        Assert.Empty(mismatches);
    }

    [Fact]
    public void The_RTDS_devices_are_the_targets_other_than_the_DSP_each_with_a_type_guess()
    {
        var devices = rtds.Tooling.RtdsDevices;
        foreach (var device in devices)
        {
            output.WriteLine(device.ToString());
        }
        Assert.DoesNotContain(devices, d => d.Id == Dsp);
        Assert.Contains(rtds.Tooling.Templates, t => t.RequestId.Target == Dsp);
        Assert.Equal(7, devices.Count);
        Assert.Equal(rtds.Tooling.Templates.Count(t => t.RequestId.Target != Dsp), devices.Sum(d => d.TemplateCount));
        RtdsDeviceType TypeOf(string id) => Assert.Single(devices, d => d.Id == Eui64.Parse(id)).Type;
        Assert.Equal(RtdsDeviceType.Esme, TypeOf("00-DB-12-34-56-78-90-A0"));
        Assert.Equal(RtdsDeviceType.Gsme, TypeOf("00-DB-12-34-56-78-90-A1"));
        Assert.Equal(RtdsDeviceType.Chf, TypeOf("00-DB-12-34-56-78-90-A2"));
        Assert.Equal(RtdsDeviceType.Gpf, TypeOf("00-DB-12-34-56-78-90-A3"));
        Assert.Equal(RtdsDeviceType.Ppmid, TypeOf("00-DB-12-34-56-78-90-A4"));
    }
}
