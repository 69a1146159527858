namespace OpenDcc.Core.Wan;

/// <summary>The three SM WAN regions of GB, each served by its own communications service provider.</summary>
public enum WanRegion
{
    North,
    Central,
    South,
}
