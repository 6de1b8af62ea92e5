// One free-port helper for the cluster runner and the tests (which import it from test/helpers).
export { freePort } from '../../test/helpers/free-port.js';
