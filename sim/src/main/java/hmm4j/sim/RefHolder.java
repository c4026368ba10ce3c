package hmm4j.sim;

/**
 * Something that can hold a counted reference: a {@link Task}, or an explicit reference
 * handle (a device, a notifier subscription, a walk) made by the layer that takes the
 * reference. Reference ledgers and the rules built on them know a holder by its
 * <em>identity</em>; {@link #name()} is for reports only, so two holders with one name are
 * two holders.
 *
 * <p>It lives in the substrate only so that {@link Task} can be one; the ledgers and the
 * handle type are the lifetime checker's ({@code hmm4j.check.lifetime}).
 */
@HiddenFromSites
public interface RefHolder {

    /** The holder's name in reports; not unique and never used to tell holders apart. */
    String name();
}
