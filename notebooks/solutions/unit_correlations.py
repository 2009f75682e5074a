def unit_correlations(states, prop):
    """Pearson's correlation, over the N time steps, of each unit's activation with a property (such as the
    position in the line):

        r_j = sum_t (s_tj - mean_j)(p_t - mean_p) / sqrt( sum_t (s_tj - mean_j)^2 * sum_t (p_t - mean_p)^2 )

    r_j is in [-1, 1]: +1 when unit j rises exactly with the property, -1 when it falls with it, 0 when the
    two are unrelated (linearly). The sign matters: keep it.

    Args:
        states: (N, H) one activation per time step and unit.  prop: (N,) the property at each step.

    Returns:
        r: (H,) one correlation per unit.
    """
    s = states - states.mean(axis=0)                  # (N, H) deviations of each unit
    p = prop - prop.mean()                            # (N,) deviations of the property
    return (s * p[:, None]).sum(axis=0) / np.sqrt((s * s).sum(axis=0) * (p * p).sum())

unit_correlations = exercises.check("unit_correlations", unit_correlations)
