using System.Runtime.Loader;
using System.Security.Cryptography;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Translation.EarlySmart;

namespace OpenDcc.Core.Tests.Translation;

public class AdapterLoaderTests
{
    private static readonly string SampleAssembly = Path.Combine(AppContext.BaseDirectory, "adapters", "SampleManufacturerAdapter.dll");
    private static readonly Eui64 Meter = Eui64.Parse("00-DB-12-34-56-78-90-A0");

    [Fact]
    public void A_manufacturers_assembly_is_loaded_into_its_own_context_and_its_adapter_chosen_by_model()
    {
        using var acbKey = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var services = new AdapterServices(Eui64.Parse("90-B3-D5-1F-30-00-00-02"), acbKey, new NoKeys(), _ => new byte[32]);

        var loaded = Assert.Single(AdapterLoader.Load(SampleAssembly, services));

        Assert.Equal("sample-manufacturer", loaded.Name);
        Assert.NotSame(AssemblyLoadContext.Default, AssemblyLoadContext.GetLoadContext(loaded.GetType().Assembly));
        var adapters = new TranslationAdapters([loaded], new Dictionary<string, string> { ["SAMPLE-E1"] = "sample-manufacturer" }, "sample-manufacturer");
        var device = new Device(Meter, DeviceType.ESME, SmiStatus.Commissioned) { Model = "SAMPLE-E1" };
        Assert.Same(loaded, adapters.For(device));
        Assert.True(loaded.Carries(new DeviceOperation.ReadImportRegisters(), DeviceType.ESME));
        Assert.False(loaded.Carries(new DeviceOperation.TopUp("00050073946144332041"), DeviceType.ESME));

        // It speaks its wire format with OpenDcc's own types on both sides.
        var command = loaded.ToDevice(new DeviceOperation.ReadImportRegisters(), Meter, 7);
        Assert.IsType<DeviceOperation.ReadImportRegisters>(EarlySmartCodec.DecodeCommand(System.Text.Encoding.UTF8.GetString(command)).Value);
    }

    [Fact]
    public void A_missing_assembly_a_file_that_is_no_assembly_or_one_without_adapters_is_refused_with_its_path()
    {
        using var acbKey = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var services = new AdapterServices(Eui64.Parse("90-B3-D5-1F-30-00-00-02"), acbKey, new NoKeys(), _ => new byte[32]);

        Assert.Throws<FileNotFoundException>(() => AdapterLoader.Load(Path.Combine(AppContext.BaseDirectory, "adapters", "missing.dll"), services));
        var error = Assert.Throws<InvalidOperationException>(() => AdapterLoader.Load(Path.Combine(AppContext.BaseDirectory, "xunit.assert.dll"), services));
        Assert.Contains("xunit.assert.dll", error.Message, StringComparison.Ordinal);
        var notAssembly = Path.Combine(Path.GetTempPath(), $"not-an-adapter-{Guid.NewGuid():N}.dll");
        File.WriteAllText(notAssembly, "manufacturer's release notes");
        try
        {
            var refused = Assert.Throws<InvalidOperationException>(() => AdapterLoader.Load(notAssembly, services));
            Assert.Contains($"{notAssembly} is not a .NET assembly", refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(notAssembly);
        }
    }

    private sealed class NoKeys : IDeviceKeyDirectory
    {
        public ECDiffieHellmanPublicKey? FindKeyAgreementKey(Eui64 device) => null;
    }
}
