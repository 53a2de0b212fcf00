package org.postern.smtp.api;

import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/** Context of {@code unrecognized_command}, {@code help}, {@code vrfy} and {@code noop}. */
@ProviderType
public interface CommandContext extends HookContext {
    /** The verb as the client sent it, lower case. */
    String command();

    /** The words after the verb, split on white space. */
    List<String> arguments();
}
