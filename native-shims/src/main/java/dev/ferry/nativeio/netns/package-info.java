/** Running code inside another network namespace: setns on a dedicated platform thread, checked. */
package dev.ferry.nativeio.netns;
