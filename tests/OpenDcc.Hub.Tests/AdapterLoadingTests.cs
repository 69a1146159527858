using System.Runtime.Loader;
using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Security;
using OpenDcc.Simulator.Devices;
using OpenDcc.Simulator.Wan;

namespace OpenDcc.Hub.Tests;

public sealed class AdapterLoadingTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "opendcc-adapters-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void A_manufacturers_adapter_given_to_serve_translates_for_its_model_beside_the_reference_adapters()
    {
        var assembly = Path.Combine(AppContext.BaseDirectory, "adapters", "SampleManufacturerAdapter.dll");
        using var world = SimulatedWorld.Create(new FileKeyStore(Path.Combine(directory, "keys")), TestHub.Dsp, new SimulatedFleet(1, 1), SystemClock.Instance,
            adapterAssemblies: [assembly], adapterModels: new Dictionary<string, string> { ["SAMPLE-E1"] = "sample-manufacturer" });

        var sample = world.Devices.Adapters.For(new Device(TestHub.Meter, DeviceType.ESME, SmiStatus.Commissioned) { Model = "SAMPLE-E1" });
        var reference = world.Devices.Adapters.For(new Device(TestHub.Meter, DeviceType.ESME, SmiStatus.Commissioned) { Model = SimulatedWorld.GbcsModel });

        Assert.Equal("sample-manufacturer", sample.Name);
        Assert.NotSame(AssemblyLoadContext.Default, AssemblyLoadContext.GetLoadContext(sample.GetType().Assembly));
        Assert.Equal("gbcs-reference", reference.Name);
    }

    [Fact]
    public void A_model_mapped_to_an_adapter_that_is_not_there_is_refused_naming_it()
    {
        var error = Assert.Throws<ArgumentException>(() => SimulatedWorld.Create(new FileKeyStore(Path.Combine(directory, "keys")), TestHub.Dsp, new SimulatedFleet(1, 1), SystemClock.Instance,
            adapterModels: new Dictionary<string, string> { ["SAMPLE-E1"] = "nobody" }));

        Assert.Contains("no adapter is named 'nobody'", error.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
