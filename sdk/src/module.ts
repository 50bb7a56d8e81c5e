// Entry of dist/veil.mjs (bundlers): call veil.init({ key, host }) yourself.
import api from "./index";

export default api;
export { api as veil };
