"""Lists people put in order by hand (categories, routing rules): one ``position`` each."""


def swap_with_neighbour(ordered, item, *, up):
    """Swap ``item`` with its neighbour above (``up``) or below in ``ordered`` (every row of
    the list, in order) and number them all 1, 2, 3... again, which also mends ties left by
    old data. False, and nothing changed, at either end."""
    index = ordered.index(item)
    other = index - 1 if up else index + 1
    if not 0 <= other < len(ordered):
        return False
    ordered[index], ordered[other] = ordered[other], ordered[index]
    for position, each in enumerate(ordered, start=1):
        each.position = position
    return True
