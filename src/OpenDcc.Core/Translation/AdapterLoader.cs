using System.Reflection;
using System.Runtime.Loader;
using System.Security.Cryptography;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Translation;

/// <summary>What OpenDcc offers an adapter it loads: the ACB's identity and key-agreement key, the devices' keys, named secrets.</summary>
public sealed record AdapterServices(Eui64 Acb, ECDiffieHellman AcbKeyAgreement, IDeviceKeyDirectory DeviceKeys, Func<string, byte[]> Secret);

/// <summary>
/// Loads translation adapters a manufacturer ships as an assembly of its own, into an <see cref="AssemblyLoadContext"/>
/// of its own: the adapter's private dependencies stay apart from OpenDcc's and from other manufacturers', while
/// OpenDcc.Core (which defines <see cref="ITranslationAdapter"/>) and the framework are shared, so the adapter's
/// types are OpenDcc's. Every public, non-abstract <see cref="ITranslationAdapter"/> in the assembly is created
/// through a public constructor taking <see cref="AdapterServices"/>, or a parameterless one.
/// </summary>
public static class AdapterLoader
{
    /// <exception cref="FileNotFoundException">no assembly at <paramref name="assemblyPath"/>.</exception>
    /// <exception cref="InvalidOperationException">the file is not a .NET assembly, its types cannot be loaded, it holds no adapter, or an adapter has no usable constructor.</exception>
    public static IReadOnlyList<ITranslationAdapter> Load(string assemblyPath, AdapterServices services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var path = Path.GetFullPath(assemblyPath);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"no adapter assembly at {path}", path);
        }
        Type[] exported;
        try
        {
            exported = new AdapterLoadContext(path).LoadFromAssemblyPath(path).GetExportedTypes();
        }
        catch (BadImageFormatException e)
        {
            throw new InvalidOperationException($"{path} is not a .NET assembly ({e.Message})", e);
        }
        catch (Exception e) when (e is FileLoadException or TypeLoadException or ReflectionTypeLoadException)
        {
            throw new InvalidOperationException($"{path}: its types cannot be loaded ({e.Message})", e);
        }
        var adapters = new List<ITranslationAdapter>();
        foreach (var type in exported.Where(t => t is { IsClass: true, IsAbstract: false } && typeof(ITranslationAdapter).IsAssignableFrom(t)))
        {
            var adapter = type.GetConstructor([typeof(AdapterServices)]) is { } withServices ? withServices.Invoke([services])
                : type.GetConstructor(Type.EmptyTypes) is { } plain ? plain.Invoke(null)
                : throw new InvalidOperationException($"adapter {type.FullName} in {path} has no public constructor taking AdapterServices or nothing");
            adapters.Add((ITranslationAdapter)adapter);
        }
        return adapters.Count > 0 ? adapters : throw new InvalidOperationException($"{path} holds no public ITranslationAdapter");
    }

    private sealed class AdapterLoadContext(string path) : AssemblyLoadContext($"adapter:{Path.GetFileNameWithoutExtension(path)}")
    {
        private readonly AssemblyDependencyResolver resolver = new(path);

        protected override Assembly? Load(AssemblyName assemblyName)
        {
            // Shared with OpenDcc: whatever the host already has (OpenDcc.Core, NodaTime, the framework).
            if (Default.Assemblies.Any(a => AssemblyName.ReferenceMatchesDefinition(a.GetName(), assemblyName)))
            {
                return null;
            }
            return resolver.ResolveAssemblyToPath(assemblyName) is { } dependency ? LoadFromAssemblyPath(dependency) : null;
        }
    }
}
